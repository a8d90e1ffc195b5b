"""Transfers (转运): planned → picked up → arrived, the site's roster, and what arrival does to cases and
observations."""

import datetime

import pytest
from django.http import Http404
from django.utils import timezone

from fangkong.core.errors import Conflict, DomainError, NotAllowed
from fangkong.core.models import AuditEvent
from fangkong.health import queries
from fangkong.health.models import Case, CaseEvent, Destination, Observation, ObservationKind, Transfer
from fangkong.health.services import (
    destination_create,
    destination_update,
    transfer_arrive,
    transfer_cancel,
    transfer_pick_up,
    transfer_schedule,
    transfer_update,
)
from tests.health.factories import CaseFactory, ObservationFactory, earlier_today, later
from tests.people.factories import PersonFactory


def schedule(actor, people, destination=None, kind=Destination.Kind.CENTRAL_QUARANTINE, **kwargs):
    values = {"window_start": earlier_today(1), "window_end": later(1), **kwargs}
    return transfer_schedule(actor=actor, destination_kind=kind, people=people, destination=destination, **values)


# Destinations

def test_community_staff_register_a_site_of_their_street_and_a_grid_member_may_not(street, staff_a, grid_member_a):
    site = destination_create(actor=staff_a, street=street, name=" 锦江宾馆 ", kind=Destination.Kind.CENTRAL_QUARANTINE,
                              capacity=120)
    assert (site.name, site.capacity) == ("锦江宾馆", 120)
    assert AuditEvent.objects.filter(object_type="destination", action="create").count() == 1
    with pytest.raises(NotAllowed):
        destination_create(actor=grid_member_a, street=street, name="另一处", kind=Destination.Kind.HOSPITAL)


def test_a_second_site_with_the_same_name_is_refused(street, street_admin, hotel):
    with pytest.raises(Conflict, match="锦江宾馆"):
        destination_create(actor=street_admin, street=street, name="锦江宾馆", kind=Destination.Kind.HOSPITAL)


def test_a_site_keeps_its_kind_while_transfers_head_there(street_admin, staff_a, person_a, hotel):
    schedule(staff_a, [person_a], hotel)
    with pytest.raises(Conflict, match="不能更改类型"):
        destination_update(actor=street_admin, destination=hotel, name=hotel.name, kind=Destination.Kind.HOSPITAL)
    site = destination_update(actor=street_admin, destination=hotel, name="锦江之星", kind=hotel.kind, active=False)
    assert (site.name, site.active) == ("锦江之星", False)


# Scheduling

def test_a_case_and_a_contact_are_scheduled_with_their_households_and_the_case_timeline_says_so(staff_a, person_a,
                                                                                                 household_a, hotel):
    # given a case and a household member
    case = CaseFactory(person=person_a)
    spouse = PersonFactory(household=household_a, name="王五")
    # when the transfer is scheduled
    transfer = schedule(staff_a, [person_a, spouse, person_a], hotel, case=case, vehicle="川A·12345", crew="李医生")
    # then each person rides once, from their household, the case on the case's person
    rows = list(transfer.passengers.order_by("id").values_list("person__name", "household_id", "case_id"))
    assert rows == [("张三", household_a.pk, case.pk), ("王五", household_a.pk, None)]
    assert (transfer.status, transfer.community_id) == (Transfer.Status.PLANNED, person_a.community_id)
    assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.TRANSFER).count() == 1
    assert AuditEvent.objects.filter(object_type="transfer", action="create").count() == 1


def test_scheduling_refuses_bad_input(staff_a, person_a, person_b, hotel, hospital):
    with pytest.raises(DomainError, match="不能早于"):
        schedule(staff_a, [person_a], hotel, window_start=later(2), window_end=later(1))
    with pytest.raises(DomainError, match="请选择转运人员"):
        schedule(staff_a, [], hotel)
    with pytest.raises(DomainError, match="不是本街道的集中隔离点"):
        schedule(staff_a, [person_a], hospital)
    with pytest.raises(Http404):
        schedule(staff_a, [person_a, person_b], hotel)
    hotel.active = False
    hotel.save()
    with pytest.raises(DomainError, match="已停用"):
        schedule(staff_a, [person_a], hotel)
    assert not Transfer.objects.exists()


def test_a_person_already_on_a_planned_transfer_is_refused_naming_it(staff_a, person_a, hotel):
    first = schedule(staff_a, [person_a], hotel)
    with pytest.raises(Conflict, match=f"张三 已在转运 #{first.pk}.待转运"):
        schedule(staff_a, [person_a], hotel)
    transfer_cancel(actor=staff_a, transfer=first, reason="车辆故障")
    assert schedule(staff_a, [person_a], hotel).status == Transfer.Status.PLANNED


def test_a_volunteer_may_not_schedule_and_a_medic_may(volunteer, medic, person_a, hotel):
    with pytest.raises(NotAllowed):
        schedule(volunteer, [person_a], hotel)
    assert schedule(medic, [person_a], hotel).created_by == medic


def test_a_planned_transfer_may_be_changed_and_then_no_longer_once_picked_up(staff_a, person_a, hotel):
    transfer = schedule(staff_a, [person_a], kind=Destination.Kind.CENTRAL_QUARANTINE)
    transfer = transfer_update(actor=staff_a, transfer=transfer, destination=hotel, vehicle="川A·54321")
    assert (transfer.destination, transfer.vehicle) == (hotel, "川A·54321")
    with pytest.raises(DomainError, match="不能早于"):
        transfer_update(actor=staff_a, transfer=transfer,
                        window_end=transfer.window_start - datetime.timedelta(hours=1))
    transfer_pick_up(actor=staff_a, transfer=transfer)
    with pytest.raises(Conflict, match="接走"):
        transfer_update(actor=staff_a, transfer=transfer, crew="换人")


# Pick-up and arrival

def test_pick_up_then_arrival_at_hospital_moves_the_case_to_in_hospital(staff_a, person_a, hospital):
    case = CaseFactory(person=person_a)
    transfer = schedule(staff_a, [person_a], hospital, kind=Destination.Kind.HOSPITAL, case=case)
    transfer_pick_up(actor=staff_a, transfer=transfer)
    case.refresh_from_db()
    assert (case.status, case.location) == (Case.Status.TRANSFERRED, "转运途中,前往市公卫中心")
    transfer = transfer_arrive(actor=staff_a, transfer=transfer)
    case.refresh_from_db()
    assert (transfer.status, case.status, case.location) == (
        Transfer.Status.ARRIVED, Case.Status.IN_HOSPITAL, "市公卫中心")


def test_arrival_at_a_makeshift_hospital_reads_central_quarantine(staff_a, person_a, cabin):
    case = CaseFactory(person=person_a)
    transfer = schedule(staff_a, [person_a], cabin, kind=Destination.Kind.MAKESHIFT_HOSPITAL)
    transfer_pick_up(actor=staff_a, transfer=transfer)
    transfer_arrive(actor=staff_a, transfer=transfer)
    case.refresh_from_db()
    assert (case.status, case.location) == (Case.Status.IN_CENTRAL_QUARANTINE, "国博方舱")


def test_arrival_at_a_central_quarantine_site_moves_the_home_quarantine_there_keeping_its_days(staff_a, person_a,
                                                                                                hotel):
    # given a contact under home quarantine until the 10th day from now
    home = ObservationFactory(person=person_a, planned_end_on=timezone.localdate() + datetime.timedelta(days=10))
    transfer = schedule(staff_a, [person_a], hotel)
    transfer_pick_up(actor=staff_a, transfer=transfer)
    # when they arrive at the hotel
    transfer_arrive(actor=staff_a, transfer=transfer)
    # then the home quarantine is closed as transferred and central quarantine runs there to the same end
    home.refresh_from_db()
    central = Observation.objects.active().get(person=person_a)
    assert home.status == Observation.Status.TRANSFERRED
    assert (central.kind, central.site, central.planned_end_on) == (
        ObservationKind.CENTRAL_QUARANTINE, "锦江宾馆", home.planned_end_on)


def test_arrival_before_pick_up_time_is_refused_and_changes_nothing(staff_a, person_a, hotel):
    transfer = schedule(staff_a, [person_a], hotel)
    transfer_pick_up(actor=staff_a, transfer=transfer, at=later(-0.5))
    with pytest.raises(DomainError, match="送达时间早于接走时间"):
        transfer_arrive(actor=staff_a, transfer=transfer, at=later(-1))
    transfer.refresh_from_db()
    assert (transfer.status, transfer.arrived_at) == (Transfer.Status.PICKED_UP, None)


def test_arrival_without_pick_up_in_the_future_or_without_destination_is_refused(staff_a, person_a, hotel):
    transfer = schedule(staff_a, [person_a], kind=Destination.Kind.CENTRAL_QUARANTINE)
    with pytest.raises(Conflict, match="尚未接走"):
        transfer_arrive(actor=staff_a, transfer=transfer)
    with pytest.raises(DomainError, match="不能晚于现在"):
        transfer_pick_up(actor=staff_a, transfer=transfer, at=later(2))
    transfer_pick_up(actor=staff_a, transfer=transfer)
    with pytest.raises(DomainError, match="请先指定目的地"):
        transfer_arrive(actor=staff_a, transfer=transfer)


def test_a_crew_phone_a_few_minutes_fast_is_accepted_a_later_time_is_refused_naming_it(staff_a, person_a, hotel):
    transfer = schedule(staff_a, [person_a], kind=Destination.Kind.CENTRAL_QUARANTINE)
    with pytest.raises(DomainError) as err:
        transfer_pick_up(actor=staff_a, transfer=transfer, at=later(0.5))
    assert err.value.fields == {"picked_up_at": "接走时间不能晚于现在"}

    transfer = transfer_pick_up(actor=staff_a, transfer=transfer, at=later(5 / 60))

    assert transfer.status == Transfer.Status.PICKED_UP


def test_a_double_submission_is_a_conflict_and_nothing_changes(staff_a, person_a, hotel):
    case = CaseFactory(person=person_a)
    transfer = schedule(staff_a, [person_a], hotel)
    transfer_pick_up(actor=staff_a, transfer=transfer)
    with pytest.raises(Conflict, match="请勿重复提交"):
        transfer_pick_up(actor=staff_a, transfer=transfer)
    transfer_arrive(actor=staff_a, transfer=transfer)
    arrived_at = Transfer.objects.get(pk=transfer.pk).arrived_at
    with pytest.raises(Conflict, match="已于 .* 送达,请勿重复提交"):
        transfer_arrive(actor=staff_a, transfer=transfer)
    assert Transfer.objects.get(pk=transfer.pk).arrived_at == arrived_at
    assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.STATUS).count() == 2


def test_a_picked_up_transfer_cannot_be_cancelled_and_a_cancel_needs_a_reason(staff_a, person_a, hotel):
    transfer = schedule(staff_a, [person_a], hotel)
    with pytest.raises(DomainError, match="请填写原因"):
        transfer_cancel(actor=staff_a, transfer=transfer, reason=" ")
    transfer_pick_up(actor=staff_a, transfer=transfer)
    with pytest.raises(Conflict, match="不能取消"):
        transfer_cancel(actor=staff_a, transfer=transfer, reason="改期")


def test_another_community_gets_404_on_every_step(staff_a, staff_b, person_a, hotel):
    transfer = schedule(staff_a, [person_a], hotel)
    for step in (transfer_pick_up, transfer_arrive):
        with pytest.raises(Http404):
            step(actor=staff_b, transfer=transfer)
    with pytest.raises(Http404):
        transfer_cancel(actor=staff_b, transfer=transfer, reason="x")


# Reads

def test_the_roster_lists_expected_people_first_then_arrivals_with_masked_numbers(staff_a, person_a, household_a,
                                                                                    hotel):
    other = PersonFactory(household=household_a, name="王五")
    arrived = schedule(staff_a, [person_a], hotel)
    transfer_pick_up(actor=staff_a, transfer=arrived)
    transfer_arrive(actor=staff_a, transfer=arrived)
    schedule(staff_a, [other], hotel)
    rows = list(queries.destination_roster(staff_a, hotel))
    assert [(row.person.name, row.transfer.status) for row in rows] == [("王五", "planned"), ("张三", "arrived")]
    assert rows[1].person.masked_phone == "138****1234"


def test_counts_by_day_count_people_planned_picked_up_and_arrived(staff_a, person_a, household_a, hotel,
                                                                   django_assert_num_queries):
    today = timezone.localdate()
    spouse = PersonFactory(household=household_a)
    child = PersonFactory(household=household_a)
    done = schedule(staff_a, [person_a, spouse], hotel)
    transfer_pick_up(actor=staff_a, transfer=done)
    tomorrow = timezone.make_aware(datetime.datetime.combine(today + datetime.timedelta(days=1), datetime.time(9)))
    schedule(staff_a, [child], hotel, window_start=tomorrow, window_end=tomorrow)
    with django_assert_num_queries(1):
        counts = queries.transfer_counts_by_day(staff_a, today - datetime.timedelta(days=1),
                                                today + datetime.timedelta(days=1))
    assert [(c.planned, c.picked_up, c.arrived) for c in counts] == [(0, 0, 0), (2, 2, 0), (1, 0, 0)]


def test_the_days_list_reads_in_constant_queries(staff_a, person_a, household_a, hotel, django_assert_num_queries):
    schedule(staff_a, [person_a], hotel)
    with django_assert_num_queries(2):
        assert len(list(queries.transfers_for(staff_a, day=timezone.localdate()))) == 1
    for _n in range(3):
        schedule(staff_a, [PersonFactory(household=household_a) for _ in range(2)], hotel)
    with django_assert_num_queries(2):
        transfers = list(queries.transfers_for(staff_a, day=timezone.localdate()))
        assert sum(len(t.passengers.all()) for t in transfers) == 7


def test_todays_list_keeps_earlier_transfers_still_open_or_done_today(staff_a, person_a, household_a, hotel):
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    last_night = {"window_start": midnight - datetime.timedelta(minutes=20), "window_end": later(1)}
    open_one = schedule(staff_a, [person_a], hotel, **last_night)
    done_today = schedule(staff_a, [PersonFactory(household=household_a)], hotel, **last_night)
    transfer_pick_up(actor=staff_a, transfer=done_today, at=midnight + datetime.timedelta(seconds=1))
    transfer_arrive(actor=staff_a, transfer=done_today, at=midnight + datetime.timedelta(seconds=2))
    done_yesterday = schedule(staff_a, [PersonFactory(household=household_a)], hotel, **last_night)
    transfer_pick_up(actor=staff_a, transfer=done_yesterday, at=midnight - datetime.timedelta(minutes=10))
    transfer_arrive(actor=staff_a, transfer=done_yesterday, at=midnight - datetime.timedelta(minutes=5))
    assert set(queries.transfers_for(staff_a, day=timezone.localdate())) == {open_one, done_today}
