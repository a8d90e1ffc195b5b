"""Recording a positive: the case, its household's close contacts, their observations, zones and transfers."""

import datetime
import re

import pytest
from django.http import Http404
from django.utils import timezone

from fangkong.core.errors import Conflict, DomainError, NotAllowed
from fangkong.core.models import AuditEvent
from fangkong.health.models import Case, Contact, Destination, Observation, ObservationKind, Transfer
from fangkong.health.services import case_open, case_severity_set, case_status_set
from fangkong.zones.models import Level, Zone
from tests.health.factories import CaseFactory
from tests.people.factories import PersonFactory
from tests.zones.factories import ZoneFactory


def _open(actor, person, **values):
    values.setdefault("source", Case.Source.TEST_RESULT)
    values.setdefault("confirmed_at", timezone.now() - datetime.timedelta(hours=2))
    return case_open(actor=actor, person=person, **values)


@pytest.fixture
def family(person_a, household_a):
    """张三 lives in 3号楼2单元301 with his wife and son."""
    return [PersonFactory(household=household_a, name="王芳"), PersonFactory(household=household_a, name="张小明")]


def test_a_positive_sets_the_whole_chain_in_motion(staff_a, person_a, family, unit_a, building_a):
    # when 张三's positive test is recorded
    case = _open(staff_a, person_a, severity=Case.Severity.MILD, location="家中")

    # then both household members are close contacts in central quarantine from the confirmation day
    contacts = list(Contact.objects.filter(case=case).select_related("person", "observation").order_by("person__name"))
    assert sorted(c.person.name for c in contacts) == ["张小明", "王芳"]
    for contact in contacts:
        assert (contact.kind, contact.source) == ("close", Contact.Source.HOUSEHOLD)
        assert contact.last_exposure_at == case.confirmed_at
        assert contact.observation.kind == ObservationKind.CENTRAL_QUARANTINE
        assert contact.observation.status == Observation.Status.ACTIVE
        assert contact.observation.starts_on == timezone.localdate(case.confirmed_at)
    # and the unit is proposed as sealed, the building as controlled, both naming the case
    sealed = Zone.objects.get(level=Level.SEALED, unit=unit_a, household=None)
    controlled = Zone.objects.get(level=Level.CONTROLLED, building=building_a, unit=None)
    assert {sealed.status, controlled.status} == {Zone.Status.PROPOSED}
    assert list(sealed.cases.all()) == [case] and list(controlled.cases.all()) == [case]
    # and the case goes to a makeshift hospital within six hours, the contacts together to central quarantine
    to_hospital = Transfer.objects.get(case=case, destination_kind=Destination.Kind.MAKESHIFT_HOSPITAL)
    assert [p.person_id for p in to_hospital.passengers.all()] == [person_a.pk]
    assert to_hospital.window_end - to_hospital.window_start == datetime.timedelta(hours=6)
    to_quarantine = Transfer.objects.get(case=case, destination_kind=Destination.Kind.CENTRAL_QUARANTINE)
    assert sorted(p.person.name for p in to_quarantine.passengers.all()) == ["张小明", "王芳"]
    # and the timeline tells it step by step
    notes = list(case.events.values_list("note", flat=True))
    assert notes[0] == "登记阳性:核酸检测阳性,轻型"
    for line in ("密切接触者 王芳", "密切接触者 张小明", "提出封控区 3号楼2单元", "提出管控区 3号楼"):
        assert line in notes
    transfer_lines = [note for note in notes if note.startswith("转运 #")]
    assert len(transfer_lines) == 2
    assert "已安排转运至方舱医院,1 人" in transfer_lines[0] and "已安排转运至集中隔离点,2 人" in transfer_lines[1]
    assert AuditEvent.objects.filter(object_type="case", object_id=str(case.pk), action="create").exists()


def test_a_moderate_case_goes_to_a_designated_hospital(staff_a, person_a):
    case = _open(staff_a, person_a, severity=Case.Severity.MODERATE)
    assert Transfer.objects.filter(case=case, destination_kind=Destination.Kind.HOSPITAL).count() == 1
    assert not Transfer.objects.filter(case=case, destination_kind=Destination.Kind.CENTRAL_QUARANTINE).exists()


def test_a_person_without_a_household_gets_no_zone_and_no_household_contacts(staff_a, community_a):
    visitor = PersonFactory(household=None, community=community_a, name="赵六")
    case = _open(staff_a, visitor)
    assert not Zone.objects.exists() and not case.contacts.exists()


def test_a_positive_inside_a_sealed_unit_resets_its_countdown_instead_of_a_second_proposal(
        staff_a, person_a, unit_a):
    # given 3号楼2单元 is already sealed
    zone = ZoneFactory(place=unit_a, level=Level.SEALED)
    # when a new positive is found there
    case = _open(staff_a, person_a)
    # then the zone takes the case, and no second zone is proposed on the unit
    assert list(zone.cases.all()) == [case]
    assert Zone.objects.filter(unit=unit_a, household=None).count() == 1


def test_a_second_open_case_for_the_same_person_is_refused_naming_the_first(staff_a, person_a):
    first = _open(staff_a, person_a)
    with pytest.raises(Conflict, match=re.escape(f"张三 已有未结案的病例(编号 {first.pk})")):
        _open(staff_a, person_a)


def test_after_recovery_the_person_may_have_a_new_case(staff_a, person_a):
    first = _open(staff_a, person_a)
    case_status_set(actor=staff_a, case=first, status=Case.Status.RECOVERED)
    assert _open(staff_a, person_a).pk != first.pk


def test_outside_scope_is_404_and_a_volunteer_may_not(person_a, staff_b, grid_member_b, volunteer):
    for outsider in (staff_b, grid_member_b):
        with pytest.raises(Http404):
            _open(outsider, person_a)
    with pytest.raises(NotAllowed):
        _open(volunteer, person_a)
    assert not Case.objects.exists()


def test_a_medic_and_a_grid_member_may_record_a_case(medic, grid_member_a, person_a, person_b, family):
    assert _open(medic, person_a).opened_by == medic
    assert _open(grid_member_a, family[0]).opened_by == grid_member_a


@pytest.mark.parametrize(("values", "field"), [
    ({"confirmed_at": timezone.now() + datetime.timedelta(days=1)}, "confirmed_at"),
    ({"confirmed_at": None}, "confirmed_at"),
    ({"source": "rumour"}, "source"),
    ({"severity": "very_bad"}, "severity"),
])
def test_bad_input_is_refused_naming_the_field(staff_a, person_a, values, field):
    with pytest.raises(DomainError) as err:
        _open(staff_a, person_a, **values)
    assert field in err.value.fields
    assert not Case.objects.exists()


def test_severity_changes_are_on_the_timeline(staff_a, person_a):
    case = CaseFactory(person=person_a)
    case = case_severity_set(actor=staff_a, case=case, severity=Case.Severity.SEVERE, note="血氧下降")
    assert case.severity == Case.Severity.SEVERE
    assert case.events.last().note == "分型:无症状感染者 → 重型。血氧下降"


@pytest.mark.django_db(transaction=True)
def test_two_staff_recording_the_same_positive_at_once_make_one_case(staff_a, medic, person_a, race):
    outcomes = race(lambda: _open(staff_a, person_a), lambda: _open(medic, person_a))

    assert [outcome.ok for outcome in outcomes].count(True) == 1
    assert Case.objects.filter(person=person_a).count() == 1
