"""The care pages: the vulnerable first with quick checks, every household, medical exceptions, today's list."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fangkong.accounts.models import Role
from fangkong.zones import services
from fangkong.zones.models import CareCheck, CareTask, MedicalException
from tests.accounts.factories import UserFactory
from tests.clients import signed_in
from tests.people.factories import PersonFactory
from tests.places.factories import GridFactory, HouseholdFactory
from tests.zones.factories import ZoneFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def zone(unit_a, household_a, person_a, staff_a):
    zone = ZoneFactory(place=unit_a)
    PersonFactory(household=HouseholdFactory(unit=unit_a, room="101"), name="王透析", tags=["dialysis"])
    services.care_tasks_sync(actor=staff_a, zone=zone)
    return zone


@pytest.fixture
def task(zone):
    return CareTask.objects.get(zone=zone)


def test_the_care_page_shows_the_vulnerable_first_and_every_household_masked(zone, grid_member_a):
    response = signed_in(grid_member_a).get(f"/zones/{zone.pk}/care/")

    assert response.status_code == 200
    text = response.content.decode()
    assert text.index("王透析") < text.index("张三")
    assert '<span class="chip">透析</span>' in text and "今日未查看" in text and "3-2-301" in text
    assert "138****1234" in text and "13800001234" not in text


def test_a_tap_on_well_answers_the_card_and_is_recorded_once(task, grid_member_a):
    client = signed_in(grid_member_a)

    client.post(f"/zones/care/tasks/{task.pk}/check/", {"outcome": "well"}, HTTP_HX_REQUEST="true")
    response = client.post(f"/zones/care/tasks/{task.pk}/check/", {"outcome": "well"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert "今日已查看:情况正常" in response.content.decode()
    assert "<html" not in response.content.decode()
    assert CareCheck.objects.filter(task=task).count() == 1


def test_needing_help_without_saying_what_answers_the_card_with_the_reason(task, staff_a):
    response = signed_in(staff_a).post(f"/zones/care/tasks/{task.pk}/check/", {"outcome": "needs_help", "note": ""},
                                       HTTP_HX_REQUEST="true")

    assert response.status_code == 400
    assert "需要帮助时请写明需要什么" in response.content.decode()
    assert not CareCheck.objects.exists()


def test_without_htmx_a_check_goes_back_to_the_care_page(task, staff_a):
    response = signed_in(staff_a).post(f"/zones/care/tasks/{task.pk}/check/", {"outcome": "not_reached"})

    assert response.status_code == 302 and response.url == f"/zones/{task.zone_id}/care/"
    assert CareCheck.objects.get().outcome == "not_reached"


def test_a_medical_exception_is_recorded_from_the_page_with_who_allowed_it(task, medic):
    client = signed_in(medic)

    response = client.post(f"/zones/{task.zone_id}/care/exceptions/",
                           {"person": task.person_id, "need": "dialysis", "destination": "市第一医院"}, follow=True)

    assert response.status_code == 200
    exception = MedicalException.objects.get()
    assert exception.allowed_by == medic
    assert "medic_a 批准" in response.content.decode()


def test_an_exception_for_someone_outside_the_zone_is_not_offered(zone, person_b, staff_a, street_admin):
    response = signed_in(street_admin).post(f"/zones/{zone.pk}/care/exceptions/",
                                            {"person": person_b.pk, "need": "dialysis"})

    assert response.status_code == 400
    assert not MedicalException.objects.exists()


def test_today_lists_unchecked_tasks_by_zone(task, staff_a, staff_b):
    client = signed_in(staff_a)
    assert "王透析" in client.get("/zones/care/today/").content.decode()

    services.care_check_record(actor=staff_a, task=task, outcome="well")

    assert "王透析" not in client.get("/zones/care/today/").content.decode()
    assert "王透析" not in signed_in(staff_b).get("/zones/care/today/").content.decode()


@pytest.mark.parametrize("who", ["grid_member_b", "staff_b"])
def test_care_of_community_a_is_404_to_community_b(request, task, who):
    client = signed_in(request.getfixturevalue(who))

    assert client.get(f"/zones/{task.zone_id}/care/").status_code == 404
    assert client.post(f"/zones/care/tasks/{task.pk}/check/", {"outcome": "well"}).status_code == 404
    assert client.post(f"/zones/{task.zone_id}/care/exceptions/",
                       {"person": task.person_id, "need": "dialysis"}).status_code == 404
    assert not CareCheck.objects.exists() and not MedicalException.objects.exists()


def test_a_resident_is_sent_to_their_household(task, resident):
    response = signed_in(resident).get(f"/zones/{task.zone_id}/care/")

    assert response.status_code == 302


def test_staff_name_who_looks_in_on_the_person_from_the_card(task, staff_a, grid_member_a):
    client = signed_in(staff_a)
    page = client.get(f"/zones/{task.zone_id}/care/").content.decode()
    assert f'<option value="{grid_member_a.pk}">' in page

    response = client.post(f"/zones/care/tasks/{task.pk}/assign/", {"assignee": grid_member_a.pk},
                           HTTP_HX_REQUEST="true")

    assert response.status_code == 200 and "<html" not in response.content.decode()
    assert "责任人 grid_a" in response.content.decode()
    task.refresh_from_db()
    assert task.assignee == grid_member_a
    cleared = client.post(f"/zones/care/tasks/{task.pk}/assign/", {"assignee": ""})
    assert cleared.status_code == 302
    task.refresh_from_db()
    assert task.assignee is None


def test_someone_not_covering_the_household_or_not_on_the_list_is_refused_on_the_card(task, staff_a, community_a,
                                                                                     grid_member_b):
    other_grid_member = UserFactory(username="grid_a2", role=Role.GRID_MEMBER,
                                    grids=[GridFactory(community=community_a, name="第二网格")])
    client = signed_in(staff_a)

    other_grid = client.post(f"/zones/care/tasks/{task.pk}/assign/", {"assignee": other_grid_member.pk},
                             HTTP_HX_REQUEST="true")
    elsewhere = client.post(f"/zones/care/tasks/{task.pk}/assign/", {"assignee": grid_member_b.pk},
                            HTTP_HX_REQUEST="true")

    assert other_grid.status_code == 400 and "grid_a2 不负责该户,不能指派" in other_grid.content.decode()
    assert elsewhere.status_code == 400 and "请从列表中选择责任人" in elsewhere.content.decode()
    task.refresh_from_db()
    assert task.assignee is None


def test_a_task_outside_the_actors_scope_cannot_be_assigned(task, staff_b, grid_member_b):
    response = signed_in(staff_b).post(f"/zones/care/tasks/{task.pk}/assign/", {"assignee": grid_member_b.pk})
    assert response.status_code == 404
    task.refresh_from_db()
    assert task.assignee is None


def test_a_stopped_task_cannot_be_assigned_from_the_card(task, staff_a, grid_member_a):
    services.zone_lift(actor=staff_a, zone=task.zone, override_reason="全员转运")

    response = signed_in(staff_a).post(f"/zones/care/tasks/{task.pk}/assign/", {"assignee": grid_member_a.pk},
                                       HTTP_HX_REQUEST="true")

    assert response.status_code == 400 and "该关照任务已停止" in response.content.decode()
    task.refresh_from_db()
    assert task.assignee is None


def test_the_care_page_keeps_its_queries_constant_as_vulnerable_people_grow(zone, unit_a, staff_a, grid_member_a):
    client = signed_in(staff_a)

    def queries_of_page() -> int:
        services.care_tasks_sync(actor=staff_a, zone=zone)
        for task in CareTask.objects.filter(zone=zone):
            services.care_task_assign(actor=staff_a, task=task, assignee=grid_member_a)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/zones/{zone.pk}/care/").status_code == 200
        return len(captured)

    one = queries_of_page()
    for room in ("201", "202", "203"):
        PersonFactory(household=HouseholdFactory(unit=unit_a, room=room), name=f"王{room}", tags=["immobile"])

    assert queries_of_page() == one


def test_an_assignment_from_the_card_reads_no_place_row_by_row(task, staff_a, grid_member_a):
    client = signed_in(staff_a)

    with CaptureQueriesContext(connection) as captured:
        response = client.post(f"/zones/care/tasks/{task.pk}/assign/", {"assignee": grid_member_a.pk},
                               HTTP_HX_REQUEST="true")

    assert response.status_code == 200 and "3-2-" in response.content.decode()
    assert [query["sql"] for query in captured if query["sql"].startswith('SELECT "places_')] == []
