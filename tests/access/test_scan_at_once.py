"""The everyday scan by the short path: decided and stored as the full path would, or left to it.

`passage_register_at_once` decides with the same `rules.decide` on the gate's remembered rules and the facts
of an everyday scan, and one statement stores it only while those facts hold; it must store exactly what
`passage_register` would, and step aside (store nothing, return None) whenever they do not. It is
PostgreSQL's; on SQLite it always steps aside.
"""

import datetime
import uuid

import pytest
from django.db import connection
from django.utils import timezone

from fangkong.access import codes, services
from fangkong.access.models import Passage
from fangkong.people.codes import personal_code
from fangkong.zones import services as zone_services
from tests.access.factories import CheckpointFactory, PassFactory
from tests.people.factories import PersonFactory
from tests.zones.factories import ZoneFactory

pytestmark = pytest.mark.django_db
on_postgresql = pytest.mark.postgres_only("the short path is PostgreSQL's")

_COMPARED = ("checkpoint_id", "person_id", "household_id", "used_pass_id", "direction", "result", "reason", "plate",
             "temperature", "guard_id", "offline", "conflict")


def _short(actor, gate, code, direction="out", **more):
    return services.passage_register_at_once(actor=actor, checkpoint_id=gate.pk, client_id=uuid.uuid4(),
                                             direction=direction, code=code, **more)


def _full(actor, gate, code, direction="out", **more):
    return services.passage_register(actor=actor, checkpoint=gate, client_id=uuid.uuid4(), direction=direction,
                                     code=code, **more)


def _stored(registered) -> dict:
    passage = Passage.objects.get(pk=registered.passage.pk)
    return {name: getattr(passage, name) for name in _COMPARED}


@pytest.fixture
def situations(gate_a, compound_a, person_a, person_b, unit_a):
    """(name, gate, code, direction, extra) of scans the short path must decide as the full path does."""
    other = PersonFactory(household=person_a.household, name="李邻")
    return [
        ("free resident out", gate_a, personal_code(person_a), "out", {"temperature": "36.4", "plate": "蒙A12345"}),
        ("free resident in", gate_a, personal_code(other), "in", {}),
        ("typed ID number", gate_a, person_a.id_number, "in", {}),
        ("fever", gate_a, personal_code(person_a), "out", {"temperature": "38.1"}),
        ("an entrance-only gate", CheckpointFactory(community=compound_a.community, direction="in"),
         personal_code(person_a), "out", {}),
        ("an inactive gate", CheckpointFactory(community=compound_a.community, active=False),
         personal_code(person_a), "in", {}),
        ("a closed compound, coming home", CheckpointFactory(community=compound_a.community, pass_required=True),
         personal_code(person_a), "in", {}),
    ]


@on_postgresql
def test_the_short_path_stores_what_the_full_path_would(volunteer, situations):
    for name, gate, code, direction, extra in situations:
        short = _short(volunteer, gate, code, direction, **extra)
        full = _full(volunteer, gate, code, direction, **extra)

        assert short is not None, name
        assert _stored(short) == _stored(full), name
        assert (short.message, short.person_name) == (full.message, full.person_name), name


@on_postgresql
def test_a_sealed_resident_coming_home_is_decided_by_the_short_path(volunteer, gate_a, person_a, unit_a):
    ZoneFactory(place=unit_a)

    assert _short(volunteer, gate_a, personal_code(person_a), "in").decision.result == "allowed"


@on_postgresql
def test_exits_a_zone_holds_are_decided_by_the_short_path_as_by_the_full_one(
        volunteer, staff_a, gate_a, person_a, unit_a, building_a, household_a):
    sealed = ZoneFactory(place=unit_a)
    neighbour = PersonFactory(household=household_a, name="透析病人")
    carer = PersonFactory(household=household_a, name="持就医证")
    zone_services.medical_exception_allow(actor=staff_a, zone=sealed, person=neighbour, need="dialysis")
    PassFactory(person=carer, household=household_a, kind="medical")
    PassFactory(person=carer, household=household_a, kind="medical", revoked_at=timezone.now())
    for person in (person_a, neighbour, carer):
        short, full = _short(volunteer, gate_a, personal_code(person)), _full(volunteer, gate_a, personal_code(person))
        assert short is not None, person.name
        assert _stored(short) == _stored(full), person.name
    assert _stored(_short(volunteer, gate_a, personal_code(carer)))["used_pass_id"] is not None


@on_postgresql
def test_a_gate_changed_since_it_was_remembered_is_decided_afresh(volunteer, staff_a, gate_a, person_a):
    assert _short(volunteer, gate_a, personal_code(person_a)).decision.result == "allowed"
    closed = services.checkpoint_update(actor=staff_a, checkpoint=gate_a, name=gate_a.name, active=False)

    assert _short(volunteer, closed, personal_code(person_a)) is None
    assert _full(volunteer, closed, personal_code(person_a)).decision.reason == "checkpoint_inactive"
    assert _short(volunteer, closed, personal_code(person_a), "in").decision.reason == "checkpoint_inactive"


@pytest.mark.parametrize("situation", ["closed compound going out",
                                       "test asked", "pass card", "forged code", "nobody's ID number",
                                       "code of another community", "replay", "grid account", "bad input",
                                       "outside scope"])
def test_the_short_path_steps_aside_when_it_cannot_decide_alone(
        situation, volunteer, grid_member_a, staff_b, gate_a, compound_a, person_a, person_b, unit_a, building_a,
        household_a):
    actor, gate, code, more = volunteer, gate_a, personal_code(person_a), {}
    if situation == "forged code":
        code = "FK1:1.1:abc:forged"
    elif situation == "nobody's ID number":
        code = "110101199003070000"
    elif situation == "code of another community":
        code = personal_code(person_b)
    elif situation == "closed compound going out":
        gate = CheckpointFactory(community=compound_a.community, pass_required=True)
    elif situation == "test asked":
        gate = CheckpointFactory(community=compound_a.community, test_within_hours=48)
    elif situation == "pass card":
        code = codes.pass_code(PassFactory(household=household_a))
    elif situation == "replay":
        client_id = uuid.uuid4()
        services.passage_register(actor=volunteer, checkpoint=gate, client_id=client_id, direction="out", code=code)
        more = {"client_id": client_id}
    elif situation == "grid account":
        actor = grid_member_a
    elif situation == "bad input":
        more = {"occurred_at": timezone.now() + datetime.timedelta(days=1)}
    elif situation == "outside scope":
        actor = staff_b
    before = Passage.objects.count()

    answer = services.passage_register_at_once(**{"actor": actor, "checkpoint_id": gate.pk, "client_id": uuid.uuid4(),
                                                  "direction": "out", "code": code, **more})

    assert answer is None and Passage.objects.count() == before


def test_on_sqlite_the_short_path_always_steps_aside(volunteer, gate_a, person_a):
    answer = _short(volunteer, gate_a, personal_code(person_a))

    assert (answer is None) == (connection.vendor == "sqlite")
