"""Care inside zones: standing daily checks for the vulnerable, one check a day, medical exceptions never refused."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fangkong.core.errors import Conflict, DomainError, NotAllowed
from fangkong.core.models import AuditEvent
from fangkong.people import services as people_services
from fangkong.zones import queries, services
from fangkong.zones.models import CareCheck, CareTask, Level, MedicalException, Zone, ZoneEvent
from tests.accounts.factories import UserFactory
from tests.clients import send, signed_in
from tests.people.factories import PersonFactory
from tests.places.factories import HouseholdFactory, UnitFactory
from tests.zones.factories import ZoneFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sealed_unit(unit_a):
    return ZoneFactory(place=unit_a)


@pytest.fixture
def dialysis_patient(household_a):
    return PersonFactory(household=household_a, name="王透析", tags=["dialysis", "disabled"])


@pytest.fixture
def next_door(building_a):
    """A household of the same building, in another unit: outside a zone on unit 2."""
    return HouseholdFactory(unit=UnitFactory(building=building_a, number="1"), room="101")


@pytest.fixture
def task(sealed_unit, dialysis_patient, staff_a):
    services.care_tasks_sync(actor=staff_a, zone=sealed_unit)
    return CareTask.objects.get(person=dialysis_patient)


def test_vulnerable_people_inside_get_a_daily_task_and_nobody_else_does(sealed_unit, household_a, next_door,
                                                                        person_a, staff_a):
    pregnant = PersonFactory(household=household_a, name="孕妇", tags=["pregnant"])
    dialysis = PersonFactory(household=household_a, name="透析", tags=["dialysis", "key_worker"])
    PersonFactory(household=next_door, name="隔壁透析", tags=["dialysis"])
    PersonFactory(household=household_a, name="保安", tags=["key_worker"])

    added = services.care_tasks_sync(actor=staff_a, zone=sealed_unit)

    assert added == 2
    tasks = {task.person_id: task.needs for task in CareTask.objects.filter(zone=sealed_unit, active=True)}
    assert tasks == {pregnant.pk: ["pregnant"], dialysis.pk: ["dialysis"]}
    assert services.care_tasks_sync(actor=staff_a, zone=sealed_unit) == 0
    assert CareTask.objects.count() == 2


def test_a_lifted_zone_stops_its_tasks_and_no_check_is_taken_any_more(sealed_unit, task, staff_a):
    Zone.objects.filter(pk=sealed_unit.pk).update(status=Zone.Status.LIFTED)
    sealed_unit.refresh_from_db()

    services.care_tasks_sync(actor=staff_a, zone=sealed_unit)

    task.refresh_from_db()
    assert task.active is False
    with pytest.raises(Conflict):
        services.care_check_record(actor=staff_a, task=task, outcome="well")
    assert list(queries.care_tasks_due(staff_a, timezone.localdate())) == []


def test_a_person_no_longer_tagged_loses_the_task_and_gets_it_back_when_tagged_again(sealed_unit, task,
                                                                                    dialysis_patient, staff_a):
    dialysis_patient.tags.filter(tag="dialysis").delete()
    services.care_tasks_sync(actor=staff_a, zone=sealed_unit)
    task.refresh_from_db()
    assert task.active is False

    dialysis_patient.tags.create(tag="chemotherapy")
    services.care_tasks_sync(actor=staff_a, zone=sealed_unit)
    task.refresh_from_db()
    assert task.active is True and task.needs == ["chemotherapy"]


def test_a_check_sent_twice_the_same_day_is_one_check_with_the_last_answer(task, grid_member_a):
    services.care_check_record(actor=grid_member_a, task=task, outcome="not_reached")
    check = services.care_check_record(actor=grid_member_a, task=task, outcome="well")

    assert CareCheck.objects.filter(task=task).count() == 1
    check.refresh_from_db()
    assert check.outcome == "well" and check.day == timezone.localdate() and check.checked_by == grid_member_a
    actions = list(AuditEvent.objects.filter(object_type="carecheck").values_list("action", flat=True))
    assert sorted(actions) == ["create", "update"]


def test_yesterdays_check_does_not_count_for_today(task, staff_a):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    services.care_check_record(actor=staff_a, task=task, outcome="well", day=yesterday)

    assert list(queries.care_tasks_due(staff_a, timezone.localdate())) == [task]
    services.care_check_record(actor=staff_a, task=task, outcome="well")
    assert list(queries.care_tasks_due(staff_a, timezone.localdate())) == []
    assert CareCheck.objects.filter(task=task).count() == 2


@pytest.mark.parametrize("outcome,note,field", [
    ("fine", "", "outcome"),
    ("needs_help", "  ", "note"),
])
def test_bad_checks_name_the_field(task, staff_a, outcome, note, field):
    with pytest.raises(DomainError) as err:
        services.care_check_record(actor=staff_a, task=task, outcome=outcome, note=note)

    assert field in err.value.fields
    assert not CareCheck.objects.exists()


def test_a_check_dated_tomorrow_is_refused(task, staff_a):
    with pytest.raises(DomainError) as err:
        services.care_check_record(actor=staff_a, task=task, outcome="well",
                                   day=timezone.localdate() + datetime.timedelta(days=1))
    assert "day" in err.value.fields


def test_needing_help_is_recorded_with_what_is_needed(task, medic):
    check = services.care_check_record(actor=medic, task=task, outcome="needs_help", note="透析机预约 周三")

    assert check.outcome == CareCheck.Outcome.NEEDS_HELP and check.note == "透析机预约 周三"


def test_staff_of_another_community_cannot_see_or_check_the_task(task, staff_b, grid_member_b, resident):
    from django.http import Http404

    for outsider in (staff_b, grid_member_b):
        with pytest.raises(Http404):
            services.care_check_record(actor=outsider, task=task, outcome="well")
    with pytest.raises(NotAllowed):
        services.care_check_record(actor=resident, task=task, outcome="well")
    assert not CareCheck.objects.exists()


def test_a_task_is_assigned_only_to_staff_covering_the_household(task, staff_a, grid_member_a, grid_member_b):
    services.care_task_assign(actor=staff_a, task=task, assignee=grid_member_a)
    task.refresh_from_db()
    assert task.assignee == grid_member_a

    with pytest.raises(DomainError) as err:
        services.care_task_assign(actor=staff_a, task=task, assignee=grid_member_b)
    assert "assignee" in err.value.fields
    task.refresh_from_db()
    assert task.assignee == grid_member_a


def test_a_medical_exception_is_recorded_with_who_allowed_it(sealed_unit, dialysis_patient, volunteer):
    exception = services.medical_exception_allow(actor=volunteer, zone=sealed_unit, person=dialysis_patient,
                                                 need="dialysis", destination="市第一医院", note="每周一三五")

    assert exception.allowed_by == volunteer and exception.valid_on == timezone.localdate()
    event = ZoneEvent.objects.get(zone=sealed_unit, kind=ZoneEvent.Kind.EXCEPTION)
    assert "透析" in event.note and "王透析" in event.note and "volunteer_a" in event.note
    assert event.by == volunteer
    assert AuditEvent.objects.filter(object_type="medicalexception", action="create", actor=volunteer).exists()
    assert list(queries.exceptions_of_zone(volunteer, sealed_unit)) == [exception]


@pytest.mark.parametrize("status", [Zone.Status.ACTIVE, Zone.Status.PROPOSED, Zone.Status.LIFTED])
def test_a_medical_exception_is_never_refused_because_of_the_zone(unit_a, dialysis_patient, staff_a, status):
    zone = ZoneFactory(place=unit_a, status=status)

    services.medical_exception_allow(actor=staff_a, zone=zone, person=dialysis_patient, need="emergency")

    assert MedicalException.objects.filter(zone=zone, person=dialysis_patient).count() == 1


def test_a_medical_exception_for_someone_outside_the_zone_says_so(sealed_unit, next_door, staff_a):
    neighbour = PersonFactory(household=next_door, name="隔壁")

    with pytest.raises(DomainError) as err:
        services.medical_exception_allow(actor=staff_a, zone=sealed_unit, person=neighbour, need="medicine")

    assert "person" in err.value.fields and "隔壁" in err.value.message
    assert not MedicalException.objects.exists() and not ZoneEvent.objects.exists()


def test_an_unknown_need_is_refused(sealed_unit, dialysis_patient, staff_a):
    with pytest.raises(DomainError) as err:
        services.medical_exception_allow(actor=staff_a, zone=sealed_unit, person=dialysis_patient, need="haircut")
    assert "need" in err.value.fields


def test_zone_people_lists_vulnerable_households_first_with_todays_check_in_constant_queries(
        sealed_unit, household_a, unit_a, task, staff_a):
    early = HouseholdFactory(unit=unit_a, room="101")
    PersonFactory(household=early, name="普通")
    services.care_check_record(actor=staff_a, task=task, outcome="well")

    with CaptureQueriesContext(connection) as few:
        people = queries.zone_people(staff_a, sealed_unit)
    for room in ("102", "201", "202", "302"):
        PersonFactory(household=HouseholdFactory(unit=unit_a, room=room), tags=["elderly_alone"])
    with CaptureQueriesContext(connection) as many:
        bigger = queries.zone_people(staff_a, sealed_unit)

    assert [row.household.room for row in people.households] == ["301", "101"]
    first = people.vulnerable[0]
    assert first.person.name == "王透析" and first.need_labels == ["透析"] and first.check.outcome == "well"
    assert first.person.masked_phone.count("*") == 4
    assert len(bigger.households) == 6 and len(many) == len(few)


def test_care_tasks_due_holds_only_tasks_in_scope(task, staff_a, staff_b, grid_member_a):
    today = timezone.localdate()

    assert list(queries.care_tasks_due(staff_a, today)) == [task]
    assert list(queries.care_tasks_due(grid_member_a, today)) == [task]
    assert list(queries.care_tasks_due(staff_b, today)) == []


def test_a_non_staff_user_cannot_record_an_exception(sealed_unit, dialysis_patient):
    stranger = UserFactory(role="")

    with pytest.raises(NotAllowed):
        services.medical_exception_allow(actor=stranger, zone=sealed_unit, person=dialysis_patient, need="dialysis")


def test_a_person_in_a_sealed_unit_of_a_controlled_building_is_checked_once_under_the_sealed_unit(
        unit_a, building_a, dialysis_patient, next_door, staff_a):
    neighbour = PersonFactory(household=next_door, name="隔壁孕妇", tags=["pregnant"])
    controlled_building = ZoneFactory(place=building_a, level="controlled")
    sealed_unit = ZoneFactory(place=unit_a)

    services.care_tasks_sync_around(actor=staff_a, zone=sealed_unit)

    active = {(task.zone_id, task.person_id) for task in CareTask.objects.filter(active=True)}
    assert active == {(sealed_unit.pk, dialysis_patient.pk), (controlled_building.pk, neighbour.pk)}


def test_when_the_sealed_unit_is_lifted_the_controlled_building_takes_over_its_daily_checks(
        unit_a, building_a, dialysis_patient, staff_a):
    controlled_building = ZoneFactory(place=building_a, level="controlled")
    sealed_unit = ZoneFactory(place=unit_a)
    services.care_tasks_sync_around(actor=staff_a, zone=sealed_unit)

    services.zone_lift(actor=staff_a, zone=sealed_unit, override_reason="区疾控同意提前解封")

    task = CareTask.objects.get(active=True)
    assert (task.zone_id, task.person_id) == (controlled_building.pk, dialysis_patient.pk)


def test_the_controlled_buildings_care_page_names_the_sealed_unit_that_checks_on_its_patient(
        unit_a, building_a, dialysis_patient, staff_a):
    controlled_building = ZoneFactory(place=building_a, level="controlled")
    sealed_unit = ZoneFactory(place=unit_a)
    services.care_tasks_sync_around(actor=staff_a, zone=sealed_unit)

    rows = queries.zone_people(staff_a, controlled_building).vulnerable

    assert [(row.person, row.task, row.cared_in) for row in rows] == [(dialysis_patient, None, sealed_unit)]


def test_someone_tagged_on_dialysis_while_the_unit_is_sealed_gets_a_daily_check_at_once(sealed_unit, person_a,
                                                                                        staff_a):
    people_services.person_update(actor=staff_a, person=person_a, household=person_a.household, name=person_a.name,
                         id_type=person_a.id_type, id_number=person_a.id_number, tags=["dialysis"])

    task = CareTask.objects.get(person=person_a, active=True)
    assert (task.zone, task.needs) == (sealed_unit, ["dialysis"])


def test_someone_tagged_pregnant_through_the_api_while_the_unit_is_sealed_gets_a_daily_check(sealed_unit, person_a,
                                                                                             staff_a):
    # Given a sealed unit, and a resident inside it with no tag
    # When staff tag her pregnant through the registry's API (people, which cannot call zones)
    response = send(signed_in(staff_a), "patch", f"/persons/{person_a.pk}", {"tags": ["pregnant"]})

    # Then the sealed unit looks in on her every day from now on, in the same request
    assert response.status_code == 200
    task = CareTask.objects.get(person=person_a, active=True)
    assert (task.zone, task.needs) == (sealed_unit, ["pregnant"])


def test_a_duplicate_on_dialysis_merged_into_someone_inside_the_sealed_unit_brings_the_daily_check(
        sealed_unit, person_a, staff_a, next_door):
    # Given a record of the same person outside any zone, tagged dialysis, and her record inside the sealed unit
    duplicate = PersonFactory(household=next_door, name=person_a.name, tags=["dialysis"])

    # When staff merge the duplicate into her record
    people_services.person_merge(actor=staff_a, keep=person_a, duplicate=duplicate)

    # Then she is checked daily under the sealed unit
    task = CareTask.objects.get(person=person_a, active=True)
    assert (task.zone, task.needs) == (sealed_unit, ["dialysis"])


def test_a_patient_who_moves_out_of_the_sealed_unit_leaves_its_daily_checks(task, dialysis_patient, next_door,
                                                                            staff_a):
    people_services.person_update(actor=staff_a, person=dialysis_patient, household=next_door,
                                  name=dialysis_patient.name, id_type=dialysis_patient.id_type,
                                  id_number=dialysis_patient.id_number, tags=dialysis_patient.tag_codes())

    task.refresh_from_db()
    assert not task.active


def test_dismissing_a_proposal_leaves_the_daily_checks_of_the_zones_around_alone(unit_a, building_a, compound_a,
                                                                              dialysis_patient, staff_a):
    def queries_of_dismissing() -> int:
        proposal = services.zone_propose(actor=staff_a, level=Level.SEALED, place=unit_a, reason="阳性病例")
        with CaptureQueriesContext(connection) as captured:
            services.zone_dismiss(actor=staff_a, zone=proposal, reason="核实为误报")
        return len(captured)

    alone = queries_of_dismissing()
    ZoneFactory(place=building_a, level=Level.CONTROLLED)
    ZoneFactory(place=compound_a, level=Level.PRECAUTION)

    assert queries_of_dismissing() == alone


def test_a_new_policy_recomputes_the_streets_zones_without_reading_their_community_one_by_one(
        street, unit_a, building_a, compound_a, staff_a, street_admin):
    for place in (unit_a, building_a, compound_a):
        ZoneFactory(place=place)

    with CaptureQueriesContext(connection) as captured:
        services.zone_policy_set(actor=street_admin, street=street, level=Level.SEALED, days_without_positive=10,
                                 negative_rounds=1, effective_from=timezone.localdate() - datetime.timedelta(days=30))

    assert [query["sql"] for query in captured if query["sql"].startswith('SELECT "places_community"')] == []
    assert Zone.objects.filter(unlock_on__isnull=False).count() == 3
