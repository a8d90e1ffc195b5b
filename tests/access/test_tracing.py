"""When a case is found: every passage of theirs, and everyone at the same gate within ± N minutes, with counts."""

import datetime

import pytest
from django.utils import timezone

from fangkong.access import queries, services
from fangkong.core.errors import DomainError
from fangkong.core.models import AuditEvent
from fangkong.health import services as health_services
from fangkong.health.models import Contact
from tests.access.factories import CheckpointFactory, PassageFactory
from tests.clients import send, signed_in
from tests.people.factories import PersonFactory, resident_id
from tests.places.factories import HouseholdFactory

pytestmark = pytest.mark.django_db

MORNING = timezone.make_aware(datetime.datetime(2022, 3, 10, 10, 0))
MINUTE = datetime.timedelta(minutes=1)
VISITOR_ID = resident_id(9000)


@pytest.fixture
def town(gate_a, compound_a, unit_a, person_a):
    """张三 (the case) went out by the east gate at 10:00 and came back by the north gate at 14:00; the others
    live next door."""
    north = CheckpointFactory(community=compound_a.community, compound=compound_a, name="驰誉小区北门")
    next_door = HouseholdFactory(unit=unit_a, room="302")
    a, b, c, d, e = (PersonFactory(household=next_door, name=name) for name in "甲乙丙丁戊")
    at = {"east": gate_a, "north": north}
    for who, gate, minutes, direction in [
        (person_a, "east", 0, "out"), (person_a, "north", 240, "in"), (person_a, "east", 600, "out"),
        (a, "east", 10, "out"),                     # 10 minutes after: near
        (b, "east", -20, "in"), (b, "north", 265, "in"),  # near both times
        (c, "east", 45, "out"),                     # 45 minutes after: too late
        (d, "north", 5, "out"),                     # same time, another gate
        (e, "east", 20, "in"), (e, "east", 25, "out"),  # twice within one window: one person
    ]:
        PassageFactory(checkpoint=at[gate], person=who, direction=direction, occurred_at=MORNING + minutes * MINUTE)
    PassageFactory(checkpoint=gate_a, visitor_name="赵访客", visitor_phone="13900001111",
                   visitor_id_number=VISITOR_ID, occurred_at=MORNING - 5 * MINUTE, direction="in")
    return {"case": person_a, "a": a, "b": b, "c": c, "d": d, "e": e}


def test_tracing_finds_everyone_near_each_passage_and_counts_them(staff_a, town):
    found = queries.trace(staff_a, town["case"], start=MORNING - 60 * MINUTE, end=MORNING + 300 * MINUTE, minutes=30)

    assert [(w.passage.checkpoint.name, w.people, w.visitors) for w in found.windows] == [
        ("驰誉小区东门", 3, 1), ("驰誉小区北门", 1, 0)]
    assert [(c.name, c.overlaps, round(c.nearest_minutes)) for c in found.contacts] == [
        ("乙", 2, 20), ("赵访客", 1, 5), ("甲", 1, 10), ("戊", 1, 20)]
    assert (found.people, found.visitors) == (3, 1)
    assert next(c for c in found.contacts if c.name == "乙").last_at == MORNING + 265 * MINUTE


def test_a_wider_window_takes_in_the_later_passer(staff_a, town):
    found = queries.trace(staff_a, town["case"], start=MORNING - 60 * MINUTE, end=MORNING + 60 * MINUTE, minutes=60)

    assert "丙" in [c.name for c in found.contacts]
    assert "丁" not in [c.name for c in found.contacts]


def test_tracing_reads_only_passages_in_the_actors_scope(staff_b, town):
    assert queries.trace(staff_b, town["case"], start=MORNING - 60 * MINUTE, end=MORNING + 300 * MINUTE).windows == []


@pytest.mark.parametrize(("given", "field"), [
    ({"start": MORNING, "end": MORNING - MINUTE}, "start"),
    ({"start": MORNING - datetime.timedelta(days=40), "end": MORNING}, "start"),
    ({"start": MORNING - MINUTE, "end": MORNING, "minutes": 0}, "minutes"),
    ({"start": MORNING - MINUTE, "end": MORNING, "minutes": "x"}, "minutes"),
])
def test_a_bad_window_is_refused_naming_the_field(given, field):
    with pytest.raises(DomainError) as err:
        queries.clean_trace_window(given["start"], given["end"], given.get("minutes", 30))

    assert field in err.value.fields


def test_tracing_through_the_api_is_audited_and_masks_phones(staff_a, town):
    response = send(signed_in(staff_a), "get", f"/tracing?person_id={town['case'].pk}"
                    f"&start={(MORNING - 60 * MINUTE).isoformat()}&end={(MORNING + 300 * MINUTE).isoformat()}"
                    .replace("+", "%2B"))

    body = response.json()
    assert response.status_code == 200, body
    assert [c["name"] for c in body["contacts"]] == ["乙", "赵访客", "甲", "戊"]
    assert body["contacts"][1]["phone"] == "139****1111"
    assert AuditEvent.objects.filter(action="reveal", object_type="person", object_id=str(town["case"].pk)).exists()


def test_a_volunteer_may_not_trace(volunteer, town):
    assert send(signed_in(volunteer), "get", f"/tracing?person_id={town['case'].pk}").status_code == 403


def test_the_people_found_are_added_as_close_contacts_of_the_case(staff_a, town):
    case = health_services.case_open(actor=staff_a, person=town["case"], source="test_result",
                                     confirmed_at=MORNING + 600 * MINUTE)
    found = queries.trace(staff_a, town["case"], start=MORNING - 60 * MINUTE, end=MORNING + 300 * MINUTE)
    chosen = [c for c in found.contacts if c.name in ("乙", "赵访客")]

    added, left_out = services.trace_contacts_add(actor=staff_a, case=case, found=chosen)

    assert left_out == []
    contacts = {c.person.name: c for c in Contact.objects.filter(case=case, source="co_location")}
    assert set(contacts) == {"乙", "赵访客"} and len(added) == 2
    assert contacts["乙"].last_exposure_at == MORNING + 265 * MINUTE
    assert contacts["赵访客"].person.id_number == VISITOR_ID


def test_the_tracing_page_adds_the_chosen_through_the_api_and_names_visitors_without_an_id(staff_a, town, gate_a):
    case = health_services.case_open(actor=staff_a, person=town["case"], source="test_result",
                                     confirmed_at=MORNING + 600 * MINUTE)
    PassageFactory(checkpoint=gate_a, visitor_name="无证件访客", visitor_phone="13900002222", occurred_at=MORNING)
    window = {"start": (MORNING - 60 * MINUTE).isoformat(), "end": (MORNING + 300 * MINUTE).isoformat()}

    response = send(signed_in(staff_a), "post", "/tracing/contacts", {
        "person_id": town["case"].pk, "case_id": case.pk, **window,
        "keys": [f"p{town['a'].pk}", "v13900002222", "p999999"]})

    assert response.status_code == 201, response.content
    assert (response.json()["added"], response.json()["left_out"]) == (1, ["无证件访客"])
    assert Contact.objects.filter(case=case, person=town["a"], source="co_location").exists()
