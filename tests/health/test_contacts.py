"""Close and secondary contacts: one person once per case, observations by policy, the chain, removal."""

import datetime

import pytest
from django.http import Http404
from django.utils import timezone

from fangkong.core.errors import Conflict, DomainError, NotAllowed
from fangkong.health.models import Case, Contact, ContactKind, Observation, ObservationKind
from fangkong.health.queries import case_timeline
from fangkong.health.services import case_status_set, contact_add, contact_policy_set, contact_remove, observation_start
from fangkong.people.models import Person
from tests.health.factories import CaseFactory
from tests.people.factories import PersonFactory, resident_id

HOURS_AGO = lambda hours: timezone.now() - datetime.timedelta(hours=hours)  # noqa: E731


@pytest.fixture
def case(person_a):
    return CaseFactory(person=person_a)


def _add(actor, case, kind=ContactKind.CLOSE, **values):
    values.setdefault("source", Contact.Source.MANUAL)
    values.setdefault("last_exposure_at", HOURS_AGO(30))
    return contact_add(actor=actor, case=case, kind=kind, **values)


def test_a_close_contact_goes_to_central_quarantine_counted_from_the_last_exposure(staff_a, case, household_a):
    colleague = PersonFactory(household=household_a, name="同事甲")
    exposure = timezone.now() - datetime.timedelta(days=3)
    contact = _add(staff_a, case, person=colleague, last_exposure_at=exposure, source=Contact.Source.WORKPLACE)
    observation = contact.observation
    assert observation.kind == ObservationKind.CENTRAL_QUARANTINE and observation.reason == "close_contact"
    assert observation.starts_on == timezone.localdate(exposure)
    assert observation.planned_end_on == timezone.localdate(exposure) + datetime.timedelta(days=14)
    assert case.events.last().note == "密切接触者 同事甲"


def test_a_secondary_contact_stays_home_and_reads_as_a_chain(staff_a, case, household_a):
    close = _add(staff_a, case, person=PersonFactory(household=household_a, name="王芳"))
    secondary = _add(staff_a, case, kind=ContactKind.SECONDARY,
                     person=PersonFactory(household=household_a, name="李雷"), via=close)
    assert secondary.observation.kind == ObservationKind.HOME_QUARANTINE
    assert list(close.secondary_contacts.all()) == [secondary]
    assert case.events.last().note == "次密切接触者 李雷(经由 王芳)"


def test_the_street_policy_decides_the_observation(street_admin, staff_a, street, case, household_a):
    contact_policy_set(actor=street_admin, street=street, kind=ContactKind.CLOSE,
                       observation_kind=ObservationKind.HOME_QUARANTINE)
    contact = _add(staff_a, case, person=PersonFactory(household=household_a))
    assert contact.observation.kind == ObservationKind.HOME_QUARANTINE
    with pytest.raises(NotAllowed):
        contact_policy_set(actor=staff_a, street=street, kind=ContactKind.CLOSE,
                           observation_kind=ObservationKind.CENTRAL_QUARANTINE)


def test_a_running_observation_is_linked_and_extended_not_doubled(staff_a, case, household_a):
    person = PersonFactory(household=household_a)
    running = observation_start(actor=staff_a, person=person, kind="home_quarantine", reason="arrival",
                                starts_on=timezone.localdate() - datetime.timedelta(days=10),
                                planned_end_on=timezone.localdate() + datetime.timedelta(days=4))
    exposure = HOURS_AGO(1)
    contact = _add(staff_a, case, person=person, last_exposure_at=exposure)
    running.refresh_from_db()
    assert contact.observation == running
    assert running.planned_end_on == timezone.localdate(exposure) + datetime.timedelta(days=14)
    assert Observation.objects.filter(person=person).count() == 1


def test_a_person_linked_twice_is_one_contact_and_a_secondary_becomes_close(staff_a, case, household_a):
    close = _add(staff_a, case, person=PersonFactory(household=household_a))
    person = PersonFactory(household=household_a)
    first = _add(staff_a, case, kind=ContactKind.SECONDARY, person=person, via=close)
    again = _add(staff_a, case, kind=ContactKind.CLOSE, person=person)
    assert again.pk == first.pk and again.kind == ContactKind.CLOSE and again.via is None
    assert Contact.objects.filter(case=case, person=person).count() == 1


def test_a_new_person_is_found_by_id_document_or_registered_in_the_case_community(staff_a, case, person_b, household_a):
    known = PersonFactory(household=household_a, name="已登记")
    found = _add(staff_a, case, person_data={"name": "别名", "id_number": known.id_number})
    assert found.person == known
    new = _add(staff_a, case, person_data={"name": "外卖员", "id_number": resident_id(4242), "phone": "139 0000 2222"})
    assert (new.person.community_id, new.person.household_id) == (case.community_id, None)
    assert new.person.phone == "13900002222"
    assert Person.objects.filter(id_number=resident_id(4242)).count() == 1


def test_a_person_registered_beyond_the_actor_scope_is_refused_without_details(staff_a, case, person_b):
    with pytest.raises(DomainError) as err:
        _add(staff_a, case, person_data={"name": "随便", "id_number": person_b.id_number})
    assert err.value.code == "outside_scope"
    assert person_b.name not in err.value.message and "安国路" not in err.value.message
    with pytest.raises(Http404):
        _add(staff_a, case, person=person_b)


def test_the_case_person_cannot_be_their_own_contact(staff_a, case, person_a):
    with pytest.raises(DomainError, match="密接不能是病例本人"):
        _add(staff_a, case, person=person_a)


def test_a_secondary_contact_needs_a_close_contact_of_the_same_case(staff_a, case, household_a, person_b):
    other_case = CaseFactory(person=PersonFactory(household=household_a))
    elsewhere = _add(staff_a, other_case, person=PersonFactory(household=household_a))
    for via in (None, elsewhere):
        with pytest.raises(DomainError) as err:
            _add(staff_a, case, kind=ContactKind.SECONDARY, person=PersonFactory(household=household_a), via=via)
        assert "via" in err.value.fields


def test_exposure_in_the_future_or_after_closing_is_refused(staff_a, case, household_a):
    with pytest.raises(DomainError) as err:
        _add(staff_a, case, person=PersonFactory(household=household_a), last_exposure_at=HOURS_AGO(-5))
    assert "last_exposure_at" in err.value.fields
    case_status_set(actor=staff_a, case=case, status=Case.Status.CLOSED)
    with pytest.raises(DomainError, match="不能晚于病例结案时间"):
        _add(staff_a, case, person=PersonFactory(household=household_a), last_exposure_at=timezone.now())


def test_wrong_words_are_refused(staff_a, case, household_a):
    person = PersonFactory(household=household_a)
    with pytest.raises(DomainError):
        _add(staff_a, case, kind="distant", person=person)
    with pytest.raises(DomainError):
        _add(staff_a, case, person=person, source="gossip")
    with pytest.raises(DomainError) as err:
        _add(staff_a, case, person_data={"name": "", "id_number": "123"})
    assert "name" in err.value.fields


def test_removal_ends_the_observation_the_contact_started_and_needs_a_reason(staff_a, case, household_a):
    contact = _add(staff_a, case, person=PersonFactory(household=household_a, name="误报"))
    with pytest.raises(DomainError):
        contact_remove(actor=staff_a, contact=contact, reason=" ")
    contact = contact_remove(actor=staff_a, contact=contact, reason="流调核实无接触")
    assert contact.status == Contact.Status.REMOVED
    contact.observation.refresh_from_db()
    assert contact.observation.status == Observation.Status.ENDED_EARLY
    assert case.events.last().note == "排除 密切接触者 误报:流调核实无接触"
    with pytest.raises(Conflict):
        contact_remove(actor=staff_a, contact=contact, reason="again")


def test_removal_keeps_an_observation_that_was_running_before(staff_a, case, household_a):
    person = PersonFactory(household=household_a)
    running = observation_start(actor=staff_a, person=person, kind="home_quarantine", reason="arrival")
    contact = _add(staff_a, case, person=person, last_exposure_at=HOURS_AGO(24 * 20))
    contact_remove(actor=staff_a, contact=contact, reason="核实")
    running.refresh_from_db()
    assert running.status == Observation.Status.ACTIVE


def test_outsiders_and_volunteers_may_not_add_contacts(staff_b, grid_member_b, volunteer, case, household_a):
    person = PersonFactory(household=household_a)
    for outsider in (staff_b, grid_member_b):
        with pytest.raises(Http404):
            _add(outsider, case, person=person)
    with pytest.raises(NotAllowed):
        _add(volunteer, case, person=person)


def test_the_timeline_tells_contacts_outside_the_readers_scope_without_their_names(
        staff_a, grid_member_a, case, household_a, person_a_other_grid):
    # Given a case of grid A with a close contact in another grid, a secondary contact met through them, and a
    # close contact at home
    outside = _add(staff_a, case, person=person_a_other_grid)
    _add(staff_a, case, person=PersonFactory(household=household_a, name="邻居乙"), kind=ContactKind.SECONDARY,
         via=outside)
    _add(staff_a, case, person=PersonFactory(household=household_a, name="同户丙"))
    # When community staff and grid A's member read the timeline
    by_staff = [event.note for event in case_timeline(staff_a, case) if event.kind == "contact"]
    by_grid = [event.note for event in case_timeline(grid_member_a, case) if event.kind == "contact"]
    # Then staff read every name; the grid member reads neither the other grid's person nor whom they met through
    assert by_staff == ["密切接触者 王外网格", "次密切接触者 邻居乙(经由 王外网格)", "密切接触者 同户丙"]
    assert by_grid == ["密切接触者(不在您管辖范围内的人员)", "次密切接触者(不在您管辖范围内的人员)",
                       "密切接触者 同户丙"]
