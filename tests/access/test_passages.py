"""A guard scans at a gate: the passage is decided from the registry, the zones, the passes and the tests,
and stored once."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from fangkong.access import codes, services
from fangkong.access.models import Passage, Reason, Result
from fangkong.core.errors import DomainError, NotAllowed
from fangkong.people.codes import personal_code
from fangkong.testing import models as testing_models
from fangkong.zones import services as zone_services
from fangkong.zones.models import Level, MedicalException
from tests.access.factories import CheckpointFactory, PassFactory
from tests.people.factories import PersonFactory
from tests.testing.factories import SampleFactory, TubeFactory
from tests.zones.factories import ZoneFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed_gate(compound_a):
    """驰誉小区 under closed management: going out needs a pass."""
    return CheckpointFactory(community=compound_a.community, compound=compound_a, name="驰誉小区北门",
                             pass_required=True)


@pytest.fixture
def shopping_pass(household_a):
    """One person of household A may go shopping every three days."""
    return PassFactory(household=household_a, quota_exits=1, quota_days=3)


def test_a_free_resident_going_out_is_allowed_and_the_passage_stored_with_the_guard(gate_a, person_a, volunteer, scan):
    registered = scan(gate_a, person_a, "out", temperature="36.5", plate="蒙a·12345")

    passage = Passage.objects.get()
    assert registered.decision.result == Result.ALLOWED and registered.message == "放行 · 出"
    assert registered.person_name == "张三"
    assert (passage.person, passage.household_id, passage.checkpoint, passage.guard) == (
        person_a, person_a.household_id, gate_a, volunteer)
    assert (passage.temperature, passage.plate, passage.direction) == (Decimal("36.5"), "蒙A12345", "out")
    assert not passage.offline and not passage.conflict


def test_a_typed_id_number_names_the_person_of_the_gates_community(gate_a, person_a, scan):
    registered = scan(gate_a, person_a.id_number.lower(), "in")

    assert registered.passage.person == person_a and registered.decision.result == Result.ALLOWED


@pytest.mark.parametrize(("text", "reason"), [
    ("FK1:1.1:abc:forged", Reason.CODE_FORGED),
    ("not a code at all", Reason.CODE_FORGED),
    ("FKP1:999.1:forged", Reason.CODE_FORGED),
    ("110101199003070000", Reason.UNKNOWN_PERSON),
])
def test_a_bad_code_is_refused_and_the_refusal_kept(gate_a, scan, text, reason):
    registered = scan(gate_a, text)

    passage = Passage.objects.get()
    assert (passage.result, passage.reason, passage.person_id) == (Result.REFUSED, reason, None)
    assert registered.message.startswith("不予通行")


def test_an_expired_printed_code_is_refused(gate_a, person_a, scan, settings):
    code = personal_code(person_a)
    settings.FANGKONG_PERSONAL_CODE_DAYS = -1

    assert scan(gate_a, code).decision.reason == Reason.CODE_EXPIRED


def test_a_code_of_another_community_is_refused_without_naming_its_person(gate_a, person_b, scan):
    registered = scan(gate_a, person_b)

    assert (registered.decision.reason, registered.passage.person_id) == (Reason.CODE_ELSEWHERE, None)


def test_a_sealed_resident_is_refused_going_out_but_may_come_home(gate_a, person_a, unit_a, scan):
    ZoneFactory(place=unit_a, level=Level.SEALED)

    assert scan(gate_a, person_a, "out").decision.reason == Reason.ZONE_SEALED
    assert scan(gate_a, person_a, "in").decision.result == Result.ALLOWED


def test_a_controlled_building_keeps_its_people_in(gate_a, person_a, building_a, scan):
    ZoneFactory(place=building_a, level=Level.CONTROLLED)

    assert scan(gate_a, person_a).decision.reason == Reason.ZONE_CONTROLLED


def test_a_logged_medical_exception_lets_a_sealed_resident_out(gate_a, person_a, unit_a, staff_a, scan):
    zone = ZoneFactory(place=unit_a)
    zone_services.medical_exception_allow(actor=staff_a, zone=zone, person=person_a, need="dialysis")

    registered = scan(gate_a, person_a)

    assert (registered.decision.result, registered.decision.reason) == (Result.ALLOWED, Reason.MEDICAL)


def test_the_guard_records_a_medical_need_on_the_spot_and_it_is_never_refused(gate_a, person_a, unit_a, volunteer,
                                                                              scan):
    zone = ZoneFactory(place=unit_a)

    registered = scan(gate_a, person_a, medical_need="emergency", medical_note="胸痛")

    assert registered.decision.reason == Reason.MEDICAL
    exception = MedicalException.objects.get()
    assert (exception.zone, exception.person, exception.allowed_by, exception.note) == (
        zone, person_a, volunteer, "胸痛")


def test_a_household_pass_lets_one_member_out_per_period_and_then_persuades_back(
        closed_gate, household_a, shopping_pass, scan):
    first, second = PersonFactory.create_batch(2, household=household_a)

    allowed = scan(closed_gate, first)
    turned_back = scan(closed_gate, second)

    assert allowed.message == "放行 · 出 · 本期第 1 次,共 1 次"
    assert allowed.passage.used_pass == shopping_pass
    assert (turned_back.decision.result, turned_back.decision.reason) == (Result.PERSUADED_BACK, Reason.QUOTA_USED)
    assert scan(closed_gate, second, "in").decision.result == Result.ALLOWED


def test_the_next_period_gives_the_household_its_exit_again(closed_gate, household_a, person_a, scan):
    started = timezone.now() - datetime.timedelta(days=3, hours=1)
    PassFactory(household=household_a, quota_exits=1, quota_days=3, valid_from=started)
    scan(closed_gate, person_a, occurred_at=started + datetime.timedelta(hours=2))

    assert scan(closed_gate, person_a).decision.result == Result.ALLOWED


def test_without_a_pass_a_closed_compound_persuades_its_resident_back(closed_gate, person_a, scan):
    assert scan(closed_gate, person_a).decision.reason == Reason.PASS_REQUIRED


def test_a_pass_card_scanned_names_its_holder_and_a_revoked_one_is_refused(gate_a, person_a, staff_a, scan):
    card = PassFactory(person=person_a, household=person_a.household, kind="work")

    registered = scan(gate_a, codes.pass_code(card))
    assert (registered.passage.person, registered.passage.used_pass) == (person_a, card)
    assert registered.decision.reason == Reason.PASS

    services.pass_revoke(actor=staff_a, pass_=card, reason="已复工在厂区住宿")
    assert scan(gate_a, codes.pass_code(card)).decision.reason == Reason.PASS_REVOKED


def test_a_household_card_without_a_named_holder_records_the_household(closed_gate, household_a, shopping_pass, scan):
    registered = scan(closed_gate, codes.pass_code(shopping_pass))

    assert (registered.passage.person_id, registered.passage.household_id) == (None, household_a.pk)
    assert registered.decision.quota_used == 1


def test_a_gate_asking_a_recent_negative_test_looks_at_the_latest_result(compound_a, person_a, scan):
    gate = CheckpointFactory(community=compound_a.community, compound=compound_a, test_within_hours=48)
    assert scan(gate, person_a).decision.reason == Reason.TEST_MISSING

    tube = TubeFactory(round__community=compound_a.community, result=testing_models.Result.NEGATIVE, status="resulted")
    SampleFactory(tube=tube, person=person_a, taken_at=timezone.now() - datetime.timedelta(hours=20))

    assert scan(gate, person_a).decision.result == Result.ALLOWED


def test_a_visitor_is_registered_in_seconds_and_a_feverish_one_persuaded_back(gate_a, volunteer):
    visitor = {"name": "赵访客", "phone": "139 0000 1111", "id_number": "", "reason": "送药"}

    came = services.passage_register(actor=volunteer, checkpoint=gate_a, client_id=uuid.uuid4(), direction="in",
                                     visitor=visitor, plate="蒙A88888", temperature="36.6")
    hot = services.passage_register(actor=volunteer, checkpoint=gate_a, client_id=uuid.uuid4(), direction="in",
                                    visitor=visitor, temperature="37.8")

    assert (came.decision.result, came.decision.reason) == (Result.ALLOWED, Reason.VISITOR)
    assert (came.passage.visitor_name, came.passage.visitor_phone, came.passage.plate) == ("赵访客", "13900001111",
                                                                                         "蒙A88888")
    assert (hot.decision.result, hot.decision.reason) == (Result.PERSUADED_BACK, Reason.FEVER)


def test_a_visitor_needs_a_name_and_a_phone(gate_a, volunteer):
    with pytest.raises(DomainError) as err:
        services.passage_register(actor=volunteer, checkpoint=gate_a, client_id=uuid.uuid4(), direction="in",
                                  visitor={"name": "赵访客", "phone": "12345"})

    assert "visitor_phone" in err.value.fields and not Passage.objects.exists()


def test_the_same_client_id_twice_stores_one_passage(gate_a, person_a, volunteer):
    client_id = uuid.uuid4()
    first = services.passage_register(actor=volunteer, checkpoint=gate_a, client_id=client_id, direction="out",
                                      code=personal_code(person_a))
    again = services.passage_register(actor=volunteer, checkpoint=gate_a, client_id=str(client_id), direction="out",
                                      code=personal_code(person_a))

    assert Passage.objects.count() == 1
    assert again.replayed and again.passage.pk == first.passage.pk and again.decision.result == Result.ALLOWED


@pytest.mark.parametrize(("field", "more"), [
    ("occurred_at", {"occurred_at": timezone.now() + datetime.timedelta(hours=3)}),
    ("temperature", {"temperature": "99"}),
    ("temperature", {"temperature": "热"}),
    ("plate", {"plate": "12345"}),
    ("direction", {"direction": "sideways"}),
    ("client_id", {"client_id": "not-a-uuid"}),
    ("code", {"code": ""}),
])
def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(gate_a, person_a, volunteer, field, more):
    given = {"client_id": uuid.uuid4(), "direction": "out", "code": personal_code(person_a), **more}

    with pytest.raises(DomainError) as err:
        services.passage_register(actor=volunteer, checkpoint=gate_a, **given)

    assert field in err.value.fields
    assert not Passage.objects.exists()


def test_a_device_a_few_minutes_fast_is_believed(gate_a, person_a, scan):
    ahead = timezone.now() + datetime.timedelta(minutes=5)

    assert scan(gate_a, person_a, occurred_at=ahead).passage.occurred_at == ahead


def test_residents_do_not_register_at_a_gate_as_guards(gate_a, person_a, resident):
    with pytest.raises(NotAllowed):
        services.passage_register(actor=resident, checkpoint=gate_a, client_id=uuid.uuid4(), direction="out",
                                  code=personal_code(person_a))
