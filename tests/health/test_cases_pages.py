"""Case pages: the list with counts, recording a positive, the case page with its chain, contacts added and removed."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fangkong.health.models import Case, Contact, ContactPolicy
from tests.clients import signed_in
from tests.health.factories import CaseFactory, ContactFactory
from tests.people.factories import PersonFactory, resident_id

pytestmark = pytest.mark.django_db


def _when(hours_ago=2):
    return (timezone.localtime() - datetime.timedelta(hours=hours_ago)).strftime("%Y-%m-%dT%H:%M")


def test_recording_a_positive_from_the_form_leads_to_the_case_page(staff_a, person_a, household_a):
    PersonFactory(household=household_a, name="王芳")
    client = signed_in(staff_a)
    assert "登记阳性" in client.get(f"/people/{person_a.pk}/").content.decode()
    response = client.post(f"/health/cases/new/?person={person_a.pk}",
                           {"source": "test_result", "confirmed_at": _when(), "severity": "mild", "location": "家中"})
    case = Case.objects.get(person=person_a)
    assert response["Location"] == f"/health/cases/{case.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "王芳" in page and "密切接触者 王芳" in page and "提出封控区 3号楼2单元" in page


def test_the_pick_page_finds_a_person_by_name_masked(staff_a, person_a):
    page = signed_in(staff_a).get("/health/cases/new/", {"q": "张三"}).content.decode()
    assert f"?person={person_a.pk}" in page
    assert person_a.id_number not in page and person_a.masked_id_number in page


def test_a_confirmation_in_the_future_shows_the_error_on_the_field(staff_a, person_a):
    response = signed_in(staff_a).post(f"/health/cases/new/?person={person_a.pk}",
                                       {"source": "test_result", "confirmed_at": _when(-48), "severity": "mild"})
    assert response.status_code == 400
    assert "确诊时间不能晚于现在" in response.content.decode()
    assert not Case.objects.exists()


def test_the_list_puts_open_cases_first_masks_ids_and_counts_by_status(staff_a, person_a, household_a):
    closed = CaseFactory(person=PersonFactory(household=household_a, name="李四"), status=Case.Status.CLOSED,
                         confirmed_at=timezone.now())
    CaseFactory(person=person_a, confirmed_at=timezone.now() - datetime.timedelta(days=3))
    page = signed_in(staff_a).get("/health/cases/").content.decode()
    rows = page[page.index("<tbody"):]
    assert rows.index("张三") < rows.index(closed.person.name)
    assert person_a.id_number not in page and person_a.masked_id_number in page
    assert "已发现待转运 1" in page and "已结案 1" in page


def test_the_list_and_the_case_page_take_the_same_number_of_queries_for_more_rows(staff_a, household_a):
    case = CaseFactory(person=PersonFactory(household=household_a))
    client = signed_in(staff_a)

    def count(url):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    few_list, few_case = count("/health/cases/"), count(f"/health/cases/{case.pk}/")
    for _n in range(5):
        CaseFactory(person=PersonFactory(household=household_a))
        ContactFactory(case=case, person=PersonFactory(household=household_a))
    assert count("/health/cases/") == few_list
    assert count(f"/health/cases/{case.pk}/") == few_case


def test_adding_a_new_person_as_a_contact_and_removing_them(staff_a, person_a):
    case = CaseFactory(person=person_a)
    client = signed_in(staff_a)
    response = client.post(f"/health/cases/{case.pk}/contacts/",
                           {"name": "外卖员", "id_type": "resident_id", "id_number": resident_id(777), "phone": "",
                            "kind": "close", "source": "manual", "last_exposure_at": _when(5)})
    assert response.status_code == 302
    contact = Contact.objects.get(case=case)
    assert contact.person.name == "外卖员" and contact.observation is not None
    client.post(f"/health/contacts/{contact.pk}/remove/", {"reason": "核实无接触"})
    contact.refresh_from_db()
    assert contact.status == Contact.Status.REMOVED


def test_adding_a_registered_person_found_by_search(staff_a, person_a, household_a):
    case = CaseFactory(person=person_a)
    wife = PersonFactory(household=household_a, name="王芳")
    client = signed_in(staff_a)
    page = client.get(f"/health/cases/{case.pk}/", {"q": "王芳"}).content.decode()
    assert f'name="person" value="{wife.pk}"' in page
    client.post(f"/health/cases/{case.pk}/contacts/", {"person": wife.pk, "id_type": "resident_id", "kind": "close",
                                                       "source": "household", "last_exposure_at": _when(1)})
    assert Contact.objects.get(case=case).person == wife


def test_the_case_person_as_contact_shows_the_refusal(staff_a, person_a):
    case = CaseFactory(person=person_a)
    response = signed_in(staff_a).post(f"/health/cases/{case.pk}/contacts/",
                                       {"person": person_a.pk, "id_type": "resident_id", "kind": "close",
                                        "source": "manual", "last_exposure_at": _when(1)})
    assert response.status_code == 400 and "密接不能是病例本人" in response.content.decode()


def test_status_and_severity_forms(staff_a, person_a):
    case = CaseFactory(person=person_a)
    client = signed_in(staff_a)
    client.post(f"/health/cases/{case.pk}/status/", {"status": "in_hospital", "location": "市一医院"})
    client.post(f"/health/cases/{case.pk}/severity/", {"severity": "moderate"})
    case.refresh_from_db()
    assert (case.status, case.location, case.severity) == ("in_hospital", "市一医院", "moderate")
    response = client.post(f"/health/cases/{case.pk}/status/", {"status": "found"})
    assert response.status_code == 400 and "退回" in response.content.decode()


def test_pages_of_another_community_are_404(staff_b, grid_member_b, person_a):
    case = CaseFactory(person=person_a)
    for outsider in (staff_b, grid_member_b):
        client = signed_in(outsider)
        for url in (f"/health/cases/{case.pk}/", f"/health/cases/new/?person={person_a.pk}"):
            assert client.get(url).status_code == 404, url
        assert client.post(f"/health/cases/{case.pk}/status/", {"status": "transferred"}).status_code == 404
        assert "张三" not in client.get("/health/cases/").content.decode()


def test_the_street_admin_sets_the_contact_policy(street_admin, staff_a, street):
    response = signed_in(street_admin).post("/health/contact-policies/",
                                            {"kind": "secondary", "observation_kind": "home_monitoring"})
    assert response.status_code == 302
    assert ContactPolicy.objects.get(street=street, kind="secondary").observation_kind == "home_monitoring"
    page = signed_in(staff_a).get("/health/contact-policies/").content.decode()
    assert "居家健康监测" in page and "设置政策" not in page


def test_the_via_list_offers_only_close_contacts_the_actor_sees(staff_a, grid_member_a, person_a,
                                                                 person_a_other_grid):
    # Given a case in grid A with one close contact in grid A and one in another grid of the community
    case = CaseFactory(person=person_a)
    outsider = person_a_other_grid
    inside = PersonFactory(household=person_a.household, name="李同户")
    for person in (inside, outsider):
        ContactFactory(case=case, person=person)

    # Then the grid member's contact form offers only 李同户 as the close contact a secondary came through
    form = signed_in(grid_member_a).get(f"/health/cases/{case.pk}/").context["contact_form"]
    assert [c.person.name for c in form.fields["via"].queryset] == ["李同户"]
    staff_form = signed_in(staff_a).get(f"/health/cases/{case.pk}/").context["contact_form"]
    assert sorted(c.person.name for c in staff_form.fields["via"].queryset) == ["李同户", "王外网格"]
