"""Screening rounds (排查轮次): starting a round, recording visits, progress by grid, the lists."""

import datetime

import pytest
from django.http import Http404
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fangkong.core.errors import Conflict, DomainError, NotAllowed
from fangkong.core.models import AuditEvent
from fangkong.people.models import Person
from fangkong.screening import queries, services
from fangkong.screening.models import FollowUp, HouseholdVisit, ScreeningRound
from tests.people.factories import resident_id
from tests.places.factories import BuildingFactory, GridFactory, HouseholdFactory, UnitFactory


def _ago(minutes):
    return timezone.now() - datetime.timedelta(minutes=minutes)


@pytest.fixture
def grid_a2(community_a):
    return GridFactory(community=community_a, name="第二网格")


@pytest.fixture
def rooms(household_a, unit_a, grid_a2, compound_a):
    """Grid A: 3-2-301 … 3-2-304; grid A2: 5-1-101 and 5-1-102, all in 春雨社区."""
    building = BuildingFactory(compound=compound_a, grid=grid_a2, community=compound_a.community, number="5")
    unit = UnitFactory(building=building, number="1")
    rooms = {"301": household_a}
    rooms.update({room: HouseholdFactory(unit=unit_a, room=room) for room in ("302", "303", "304")})
    rooms.update({room: HouseholdFactory(unit=unit, room=room) for room in ("101", "102")})
    return rooms


@pytest.fixture
def round_a(staff_a, community_a):
    return services.screening_round_start(actor=staff_a, community=community_a)


def _visit(actor, round, household, method, **values):
    return services.household_visit_record(actor=actor, round=round, household=household, method=method, **values)


def test_rounds_are_numbered_per_community_and_named_by_default(staff_a, staff_b, community_a, community_b):
    # Given two rounds started in 春雨社区 and one in 安国路社区
    first = services.screening_round_start(actor=staff_a, community=community_a)
    second = services.screening_round_start(actor=staff_a, community=community_a, name="  春节后复查 ")
    other = services.screening_round_start(actor=staff_b, community=community_b)
    # Then each community counts its own rounds and an unnamed round is called 第N轮排查
    assert (first.number, first.name) == (1, "第1轮排查")
    assert (second.number, second.name) == (2, "春节后复查")
    assert (other.number, other.name) == (1, "第1轮排查")
    assert AuditEvent.objects.filter(object_type="screeninground", action="create").count() == 3


def test_only_whole_community_staff_start_a_round(grid_member_a, staff_b, street_admin, community_a, grid_b):
    # A grid member cannot start a round; staff of another community do not even see this one
    with pytest.raises(NotAllowed):
        services.screening_round_start(actor=grid_member_a, community=community_a)
    with pytest.raises(Http404):
        services.screening_round_start(actor=staff_b, community=community_a)
    # A grid of another community is refused, naming the field
    with pytest.raises(DomainError) as refused:
        services.screening_round_start(actor=street_admin, community=community_a, grids=[grid_b])
    assert "grids" in refused.value.fields
    # The street admin may start one for any of its communities
    assert services.screening_round_start(actor=street_admin, community=community_a).number == 1


def test_progress_by_grid_counts_the_latest_attempt(staff_a, round_a, rooms, grid_a, grid_a2,
                                                   django_assert_max_num_queries):
    # Given visits where later attempts override earlier ones
    _visit(staff_a, round_a, rooms["301"], "not_reached", visited_at=_ago(90))
    _visit(staff_a, round_a, rooms["301"], "door", visited_at=_ago(30))
    _visit(staff_a, round_a, rooms["302"], "phone", visited_at=_ago(20))
    _visit(staff_a, round_a, rooms["303"], "door", visited_at=_ago(80))
    _visit(staff_a, round_a, rooms["303"], "not_reached", visited_at=_ago(10))
    _visit(staff_a, round_a, rooms["101"], "not_reached", visited_at=_ago(5))
    # When the progress is read
    with django_assert_max_num_queries(3):
        grids, total = queries.round_progress(staff_a, round_a)
    # Then each grid shows done / not reached / pending of its households
    by_grid = {row.grid: (row.total, row.done, row.not_reached, row.pending) for row in grids}
    assert by_grid == {grid_a: (4, 2, 1, 1), grid_a2: (2, 0, 1, 1)}
    assert (total.total, total.done, total.not_reached, total.pending) == (6, 2, 2, 2)
    assert grids[0].done_percent == 50


def test_progress_of_a_grid_member_covers_their_grid_only(staff_a, grid_member_a, round_a, rooms, grid_a):
    _visit(staff_a, round_a, rooms["101"], "door")
    grids, total = queries.round_progress(grid_member_a, round_a)
    assert [row.grid for row in grids] == [grid_a]
    assert (total.total, total.done) == (4, 0)


def test_a_round_of_some_grids_holds_only_their_households(staff_a, community_a, rooms, grid_a2):
    # Given a round of grid A2 only
    round = services.screening_round_start(actor=staff_a, community=community_a, grids=[grid_a2])
    # Then its lists hold 5-1-101 and 5-1-102, and a grid A household cannot be visited in it
    assert [h.room for h in queries.round_households(staff_a, round)] == ["101", "102"]
    with pytest.raises(Http404):
        _visit(staff_a, round, rooms["301"], "door")


def test_not_reached_list_drives_the_next_pass_in_walking_order(staff_a, round_a, rooms, compound_a, grid_a):
    # Given households of building 10 and building 3 not reached, and one reached
    far = HouseholdFactory(unit=UnitFactory(building=BuildingFactory(compound=compound_a, grid=grid_a,
                                                                     community=compound_a.community, number="10")),
                           room="101")
    for household in (far, rooms["303"], rooms["302"]):
        _visit(staff_a, round_a, household, "not_reached")
    _visit(staff_a, round_a, rooms["301"], "phone")
    # When the not-reached list is read
    rows = list(queries.round_households(staff_a, round_a, status="not_reached"))
    # Then it lists them by building, unit and room (3 before 10), with the attempt made
    assert [row.shorthand for row in rows] == ["3-2-302", "3-2-303", "10-1-101"]
    assert {row.latest_method for row in rows} == {"not_reached"}
    assert [row.room for row in queries.round_households(staff_a, round_a, status="done")] == ["301"]
    pending = queries.round_households(staff_a, round_a, status="pending", grid=rooms["101"].grid)
    assert [row.room for row in pending] == ["101", "102"]


def test_pass_number_counts_earlier_misses(staff_a, grid_member_a, round_a, household_a):
    first = _visit(grid_member_a, round_a, household_a, "not_reached", visited_at=_ago(120))
    second = _visit(grid_member_a, round_a, household_a, "not_reached", visited_at=_ago(60))
    third = _visit(staff_a, round_a, household_a, "door", people_present=3)
    assert [first.pass_number, second.pass_number, third.pass_number] == [1, 2, 3]
    row = queries.get_round_household_for(staff_a, round_a, household_a.pk)
    assert (row.latest_method, row.latest_pass) == ("door", 3)


def test_new_persons_are_registered_and_followed_when_they_arrived(grid_member_a, round_a, household_a):
    # When a door visit finds an unregistered arrival and a child nobody registered
    visit = _visit(grid_member_a, round_a, household_a, "door", people_present=4,
                   anomalies=["unregistered_arrival"],
                   new_persons=[{"name": "王五", "id_number": resident_id(301), "phone": "13900001111"},
                                {"name": "王小五", "id_number": resident_id(302)}])
    # Then both are in the registry, in that household, and followed because of the visit
    found = Person.objects.filter(household=household_a, name__in=["王五", "王小五"])
    assert found.count() == 2
    assert set(FollowUp.objects.filter(person__in=found).values_list("reason", flat=True)) == {"入户排查发现"}
    assert visit.anomalies == ["unregistered_arrival"]
    assert AuditEvent.objects.filter(object_type="person", action="create").count() == 2


def test_new_persons_without_an_arrival_are_only_registered(grid_member_a, round_a, household_a):
    _visit(grid_member_a, round_a, household_a, "door", new_persons=[{"name": "赵六", "id_number": resident_id(303)}])
    person = Person.objects.get(name="赵六")
    assert person.household == household_a
    assert not FollowUp.objects.filter(person=person).exists()


def test_fever_is_kept_and_listed_on_the_round(staff_a, grid_member_a, round_a, rooms):
    _visit(grid_member_a, round_a, rooms["302"], "door", anomalies=["fever", "symptoms"], note="体温37.8,咳嗽")
    _visit(grid_member_a, round_a, rooms["303"], "door")
    listed = queries.round_anomalies(staff_a, round_a)
    assert [(v.household.shorthand, v.anomaly_labels) for v in listed] == [("3-2-302", ["发热", "咳嗽等症状"])]
    assert listed[0].note == "体温37.8,咳嗽"


def test_closed_round_refuses_visits(staff_a, grid_member_a, round_a, household_a):
    services.screening_round_close(actor=staff_a, round=round_a)
    with pytest.raises(Conflict):
        _visit(grid_member_a, round_a, household_a, "door",
               new_persons=[{"name": "王五", "id_number": resident_id(304)}])
    assert not HouseholdVisit.objects.exists()
    assert not Person.objects.filter(name="王五").exists()
    with pytest.raises(Conflict):
        services.screening_round_close(actor=staff_a, round=round_a)


def test_grid_member_of_another_grid_gets_404(grid_member_b, round_a, household_a):
    with pytest.raises(Http404):
        _visit(grid_member_b, round_a, household_a, "door")
    assert not HouseholdVisit.objects.exists()


def test_staff_of_another_community_cannot_see_the_round(staff_b, round_a):
    assert not queries.rounds_for(staff_b).exists()
    with pytest.raises(Http404):
        queries.get_round_for(staff_b, round_a.pk)


def test_a_visit_timed_later_than_now_is_refused_naming_the_time(grid_member_a, round_a, household_a):
    with pytest.raises(DomainError) as refused:
        _visit(grid_member_a, round_a, household_a, "door", visited_at=_ago(-30))
    assert refused.value.code == "future_visit"
    assert refused.value.fields == {"visited_at": "排查时间不能晚于现在"}
    assert not HouseholdVisit.objects.exists()


@pytest.mark.parametrize("values, field", [
    ({"method": "knock"}, "method"),
    ({"method": "door", "anomalies": ["fever", "zombie"]}, "anomalies"),
    ({"method": "door", "people_present": -1}, "people_present"),
    ({"method": "door", "anomalies": ["unregistered_arrival"],
      "new_persons": [{"name": "王五", "id_number": resident_id(305)},
                      {"name": "王六", "id_number": "110101199001011234"}]},
     "new_persons"),
    ({"method": "door", "new_persons": [{"name": "", "id_number": resident_id(306)}]}, "new_persons"),
])
def test_bad_input_writes_nothing(grid_member_a, round_a, household_a, values, field):
    with pytest.raises(DomainError) as refused:
        services.household_visit_record(actor=grid_member_a, round=round_a, household=household_a, **values)
    assert field in refused.value.fields
    assert not HouseholdVisit.objects.exists()
    assert not Person.objects.filter(name__startswith="王").exists()
    assert not FollowUp.objects.exists()


def test_bad_id_number_names_the_row(grid_member_a, round_a, household_a):
    with pytest.raises(DomainError) as refused:
        _visit(grid_member_a, round_a, household_a, "door",
               new_persons=[{"name": "王五", "id_number": resident_id(307)}, {"name": "王六", "id_number": "12345"}])
    assert "第2行" in refused.value.message
    assert "身份证号" in refused.value.message


def test_the_same_visit_sent_twice_is_stored_once(grid_member_a, round_a, household_a):
    new = [{"name": "王五", "id_number": resident_id(308)}]
    first = _visit(grid_member_a, round_a, household_a, "door", new_persons=new)
    again = _visit(grid_member_a, round_a, household_a, "door", new_persons=new)
    assert again.pk == first.pk
    assert HouseholdVisit.objects.count() == 1
    assert Person.objects.filter(name="王五").count() == 1
    # A different outcome is a new attempt
    assert _visit(grid_member_a, round_a, household_a, "not_reached").pk != first.pk


def test_visits_are_audited(grid_member_a, round_a, household_a):
    _visit(grid_member_a, round_a, household_a, "phone")
    event = AuditEvent.objects.get(object_type="householdvisit")
    assert event.actor == grid_member_a
    assert event.community_id == household_a.community_id


# The console pages


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_staff_start_a_round_from_the_console(staff_a, community_a, grid_a, household_a):
    client = _client(staff_a)
    answer = client.post(reverse("screening:rounds"), {"community": community_a.pk, "name": ""})
    round = ScreeningRound.objects.get(community=community_a)
    assert answer.status_code == 302 and answer.url == reverse("screening:round_detail", args=[round.pk])
    page = client.get(answer.url)
    assert "第1轮排查" in page.content.decode()
    assert 'hx-trigger="every 10s"' in page.content.decode()
    assert round.name in client.get(reverse("screening:rounds")).content.decode()


def test_progress_partial_for_polling(staff_a, round_a, household_a):
    _visit(staff_a, round_a, household_a, "phone")
    answer = _client(staff_a).get(reverse("screening:round_detail", args=[round_a.pk]), HTTP_HX_REQUEST="true")
    html = answer.content.decode()
    assert html.lstrip().startswith('<div id="progress"')
    assert "1 / 1" in html


def test_grid_member_records_a_visit_inline(grid_member_a, round_a, household_a):
    client = _client(grid_member_a)
    url = reverse("screening:round_households", args=[round_a.pk])
    assert "3-2-301" in client.get(url, {"status": "pending"}).content.decode()
    prefix = f"h{household_a.pk}"
    answer = client.post(reverse("screening:round_visit", args=[round_a.pk, household_a.pk]),
                         {f"{prefix}-method": "door", f"{prefix}-people_present": "2",
                          f"{prefix}-anomalies": ["fever"], f"{prefix}-new_name_0": "王五",
                          f"{prefix}-new_id_number_0": resident_id(501)}, HTTP_HX_REQUEST="true")
    html = answer.content.decode()
    assert html.lstrip().startswith(f'<article class="card household" id="household-{household_a.pk}"')
    assert "已入户" in html
    assert Person.objects.filter(name="王五", household=household_a).exists()
    assert HouseholdVisit.objects.get().anomalies == ["fever"]


def test_inline_visit_with_a_bad_id_shows_the_error_and_writes_nothing(grid_member_a, round_a, household_a):
    prefix = f"h{household_a.pk}"
    answer = _client(grid_member_a).post(
        reverse("screening:round_visit", args=[round_a.pk, household_a.pk]),
        {f"{prefix}-method": "door", f"{prefix}-new_name_0": "王五", f"{prefix}-new_id_number_0": "12345"},
        HTTP_HX_REQUEST="true")
    assert "新发现人员第1行" in answer.content.decode()
    assert not HouseholdVisit.objects.exists()


def test_console_visit_of_another_grid_is_404(grid_member_b, round_a, household_a):
    prefix = f"h{household_a.pk}"
    answer = _client(grid_member_b).post(reverse("screening:round_visit", args=[round_a.pk, household_a.pk]),
                                         {f"{prefix}-method": "door"})
    assert answer.status_code == 404
    assert not HouseholdVisit.objects.exists()


def test_console_round_of_another_community_is_404(staff_b, round_a):
    client = _client(staff_b)
    for name in ("screening:round_detail", "screening:round_households"):
        assert client.get(reverse(name, args=[round_a.pk])).status_code == 404
    assert client.post(reverse("screening:round_close", args=[round_a.pk])).status_code == 404
    assert round_a.name not in client.get(reverse("screening:rounds")).content.decode()


def test_printable_not_reached_list(staff_a, round_a, rooms):
    _visit(staff_a, round_a, rooms["302"], "not_reached")
    html = _client(staff_a).get(reverse("screening:round_households", args=[round_a.pk]),
                                {"status": "not_reached", "print": "1"}).content.decode()
    assert "未联系上名单" in html and "3-2-302" in html
    assert "3-2-301" not in html
    assert "<form method=\"post\" action=\"/screening/rounds/" not in html


def test_grid_member_sees_no_start_form(grid_member_a, community_a, round_a):
    client = _client(grid_member_a)
    assert "发起排查</h2>" not in client.get(reverse("screening:rounds")).content.decode()
    assert client.post(reverse("screening:rounds"), {"community": community_a.pk}).status_code == 403
