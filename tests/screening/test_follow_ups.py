"""Following a person: the colour follows the facts, overrides are logged, the day's list is ordered."""

import datetime

import pytest
from django.http import Http404
from django.utils import timezone

from fangkong.core.errors import DomainError
from fangkong.core.models import AuditEvent
from fangkong.screening import queries, services
from fangkong.screening.models import Color, ColorChange, FollowUp
from tests.people.factories import PersonFactory
from tests.screening.factories import ArrivalFactory

pytestmark = pytest.mark.django_db


def _exposed_arrival(person):
    return ArrivalFactory(person=person, exposed=True, origin_code="420106", origin_name="湖北省武汉市武昌区")


def test_an_exposed_arrival_nobody_has_reached_is_red(staff_a, person_a):
    _exposed_arrival(person_a)
    follow_up = services.follow_up_open(actor=staff_a, person=person_a, reason="外地返回:湖北省武汉市武昌区")
    assert follow_up.risk_color == Color.RED
    assert follow_up.next_visit_on == timezone.localdate()
    assert ColorChange.objects.get(follow_up=follow_up).to_color == Color.RED


def test_an_arrival_from_elsewhere_is_yellow_until_verified_then_green(grid_member_a, person_a):
    ArrivalFactory(person=person_a, exposed=False)
    follow_up = services.follow_up_open(actor=grid_member_a, person=person_a, reason="外地返回")
    assert follow_up.risk_color == Color.YELLOW
    follow_up = services.follow_up_record_contact(actor=grid_member_a, follow_up=follow_up, outcome="phone",
                                                  verified=True)
    assert follow_up.risk_color == Color.GREEN
    assert follow_up.next_visit_on == timezone.localdate() + datetime.timedelta(days=3)
    assert [c.to_color for c in queries.color_history(grid_member_a, follow_up)] == [Color.GREEN, Color.YELLOW]


def test_reaching_an_exposed_person_turns_red_to_yellow(staff_a, person_a):
    _exposed_arrival(person_a)
    follow_up = services.follow_up_open(actor=staff_a, person=person_a, reason="外地返回")
    follow_up = services.follow_up_record_contact(actor=staff_a, follow_up=follow_up, outcome="phone", note="在家")
    assert follow_up.risk_color == Color.YELLOW
    assert follow_up.reached and follow_up.last_contact_at is not None
    assert follow_up.contacts.get().note == "在家"


def test_refusing_turns_a_reached_person_red_again(staff_a, person_a):
    _exposed_arrival(person_a)
    follow_up = services.follow_up_open(actor=staff_a, person=person_a, reason="外地返回")
    services.follow_up_record_contact(actor=staff_a, follow_up=follow_up, outcome="door")
    follow_up = services.follow_up_record_contact(actor=staff_a, follow_up=follow_up, outcome="door", cooperating=False)
    assert follow_up.risk_color == Color.RED


def test_an_unreachable_call_keeps_earlier_contact(staff_a, person_a):
    follow_up = services.follow_up_open(actor=staff_a, person=person_a, reason="名单核查")
    services.follow_up_record_contact(actor=staff_a, follow_up=follow_up, outcome="phone")
    follow_up = services.follow_up_record_contact(actor=staff_a, follow_up=follow_up, outcome="unreachable")
    assert follow_up.reached
    assert follow_up.contacts.count() == 2


def test_confirmed_departure_is_blue(staff_a, person_a):
    _exposed_arrival(person_a)
    follow_up = services.follow_up_set_facts(actor=staff_a, person=person_a, reason="核查:已离开",
                                             reached=True, verified=True, left_community=True)
    assert follow_up.risk_color == Color.BLUE


def test_override_needs_a_reason_and_is_logged_beside_the_computed_colour(staff_a, person_a):
    follow_up = services.follow_up_open(actor=staff_a, person=person_a, reason="外地返回")
    with pytest.raises(DomainError) as err:
        services.follow_up_override(actor=staff_a, follow_up=follow_up, color=Color.RED, reason=" ")
    assert "reason" in err.value.fields
    follow_up = services.follow_up_override(actor=staff_a, follow_up=follow_up, color=Color.RED,
                                            reason="邻居反映曾去过武汉")
    assert (follow_up.risk_color, follow_up.computed_color, follow_up.override_by) == (Color.RED, Color.YELLOW, staff_a)
    change = follow_up.color_changes.first()
    assert change.overridden and "邻居反映曾去过武汉" in change.reason and change.changed_by == staff_a
    events = AuditEvent.objects.filter(object_type="followup", action="update", actor=staff_a)
    assert ["override_color", "override_reason"] in [e.fields for e in events]


def test_facts_keep_moving_under_an_override_and_lifting_it_restores_them(staff_a, person_a):
    follow_up = services.follow_up_open(actor=staff_a, person=person_a, reason="外地返回")
    services.follow_up_override(actor=staff_a, follow_up=follow_up, color=Color.RED, reason="待查")
    follow_up = services.follow_up_record_contact(actor=staff_a, follow_up=follow_up, outcome="phone", verified=True)
    assert (follow_up.risk_color, follow_up.computed_color) == (Color.RED, Color.GREEN)
    follow_up = services.follow_up_override(actor=staff_a, follow_up=follow_up, color="", reason="已查清")
    assert follow_up.risk_color == Color.GREEN and follow_up.override_by is None


def test_a_new_exposed_arrival_recolours_on_refresh(staff_a, person_a):
    follow_up = services.follow_up_set_facts(actor=staff_a, person=person_a, reason="外地返回", reached=True,
                                             verified=True)
    assert follow_up.risk_color == Color.GREEN
    _exposed_arrival(person_a)
    follow_up = services.follow_up_refresh(actor=staff_a, person=person_a, reason="风险地区调整")
    assert follow_up.exposed and follow_up.risk_color == Color.YELLOW


def test_refresh_leaves_people_nobody_follows_alone(staff_a, person_a):
    assert services.follow_up_refresh(actor=staff_a, person=person_a, reason="x") is None
    assert not FollowUp.objects.exists()


def test_opening_twice_keeps_one_follow_up(staff_a, person_a):
    first = services.follow_up_open(actor=staff_a, person=person_a, reason="外地返回")
    second = services.follow_up_open(actor=staff_a, person=person_a, reason="名单核查")
    assert first.pk == second.pk and FollowUp.objects.count() == 1


def test_a_closed_follow_up_reopens_with_the_new_reason(staff_a, person_a):
    follow_up = services.follow_up_open(actor=staff_a, person=person_a, reason="外地返回")
    services.follow_up_close(actor=staff_a, follow_up=follow_up, reason="解除")
    assert not queries.follow_ups_for(staff_a).exists()
    follow_up = services.follow_up_open(actor=staff_a, person=person_a, reason="再次返回")
    assert follow_up.closed_at is None and follow_up.reason == "再次返回"


def test_staff_of_another_community_cannot_touch_the_follow_up(staff_a, staff_b, person_a):
    follow_up = services.follow_up_open(actor=staff_a, person=person_a, reason="外地返回")
    with pytest.raises(Http404):
        services.follow_up_record_contact(actor=staff_b, follow_up=follow_up, outcome="phone")
    with pytest.raises(Http404):
        services.follow_up_override(actor=staff_b, follow_up=follow_up, color=Color.RED, reason="x")


def test_the_responsible_person_must_cover_the_persons_place(staff_a, staff_b, grid_member_a, person_a):
    follow_up = services.follow_up_open(actor=staff_a, person=person_a, reason="外地返回")
    with pytest.raises(DomainError):
        services.follow_up_assign(actor=staff_a, follow_up=follow_up, responsible=staff_b)
    follow_up = services.follow_up_assign(actor=staff_a, follow_up=follow_up, responsible=grid_member_a)
    assert follow_up.responsible == grid_member_a


def test_a_resident_cannot_record_contacts(resident, staff_a, person_a):
    from fangkong.core.errors import NotAllowed

    follow_up = services.follow_up_open(actor=staff_a, person=person_a, reason="外地返回")
    with pytest.raises(NotAllowed):
        services.follow_up_record_contact(actor=resident, follow_up=follow_up, outcome="phone")


def test_my_follow_ups_put_overdue_first_and_only_the_colours_my_role_handles(staff_a, grid_member_a, medic,
                                                                              household_a):
    today = timezone.localdate()
    red = PersonFactory(household=household_a, name="红")
    _exposed_arrival(red)
    services.follow_up_open(actor=staff_a, person=red, reason="外地返回")
    green_due = services.follow_up_set_facts(actor=staff_a, person=PersonFactory(household=household_a, name="绿今"),
                                             reason="外地返回", reached=True, verified=True)
    green_overdue = services.follow_up_set_facts(actor=staff_a,
                                                 person=PersonFactory(household=household_a, name="绿逾"),
                                                 reason="外地返回", reached=True, verified=True)
    FollowUp.objects.filter(pk=green_due.pk).update(next_visit_on=today)
    FollowUp.objects.filter(pk=green_overdue.pk).update(next_visit_on=today - datetime.timedelta(days=2))
    yellow = services.follow_up_open(actor=staff_a, person=PersonFactory(household=household_a, name="黄"),
                                     reason="外地返回")
    services.follow_up_assign(actor=staff_a, follow_up=yellow, responsible=grid_member_a)

    assert [f.person.name for f in queries.my_follow_ups(grid_member_a)] == ["绿逾", "黄", "绿今"]
    assert [f.person.name for f in queries.my_follow_ups(staff_a)] == ["红"]
    assert list(queries.my_follow_ups(medic)) == []


def test_the_board_counts_by_grid_and_colour(staff_a, staff_b, household_a, household_b, grid_a):
    for name in ("甲", "乙"):
        services.follow_up_open(actor=staff_a, person=PersonFactory(household=household_a, name=name),
                                reason="外地返回")
    person = PersonFactory(household=household_a, name="丙")
    _exposed_arrival(person)
    services.follow_up_open(actor=staff_a, person=person, reason="外地返回")
    services.follow_up_open(actor=staff_b, person=PersonFactory(household=household_b), reason="外地返回")

    rows, totals = queries.color_board(staff_a)
    by_grid = {r["grid"].pk: dict(r["cells"]) for r in rows}
    assert set(by_grid) == {grid_a.pk}
    assert by_grid[grid_a.pk] == {Color.RED: 1, Color.YELLOW: 2, Color.BLUE: 0, Color.GREEN: 0}
    assert totals["total"] == 3


def test_observation_reported_before_anyone_follows_the_person_colours_the_follow_up_opened_later(staff_a, person_a):
    """Health reports an observation of someone nobody follows yet; a verified follow-up opened later is blue."""
    assert services.follow_up_set_observation(actor=staff_a, person=person_a, under_observation=True,
                                              reason="开始居家隔离") is None
    assert not FollowUp.objects.exists()

    follow_up = services.follow_up_set_facts(actor=staff_a, person=person_a, reason="名单核查", reached=True,
                                             verified=True)

    assert follow_up.under_observation and follow_up.risk_color == Color.BLUE


def test_observation_reported_over_recolours_the_follow_up(staff_a, person_a):
    services.follow_up_set_facts(actor=staff_a, person=person_a, reason="电话核实", reached=True, verified=True)
    follow_up = services.follow_up_set_observation(actor=staff_a, person=person_a, under_observation=True,
                                                   reason="开始居家隔离")
    assert follow_up.risk_color == Color.BLUE

    follow_up = services.follow_up_set_observation(actor=staff_a, person=person_a, under_observation=False,
                                                   reason="已解除")

    assert not follow_up.under_observation and follow_up.risk_color == Color.GREEN
    assert ColorChange.objects.filter(follow_up=follow_up).first().reason == "已解除"
