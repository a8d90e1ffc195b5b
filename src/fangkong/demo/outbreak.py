"""The demo's outbreak in 驰誉小区, written through the same services the console uses.

As the field report tells it: six positives and seven close contacts in three units of the
three buildings. The three units are sealed with 24-hour guard posts, two buildings controlled,
and the newest positive (two hours ago) reset the countdown of its unit and left building 3's
controlled zone waiting for a community worker to accept it. Older cases are in hospital or the
makeshift hospital, their contacts in central quarantine; today's transfer is still planned.
"""

import datetime

from django.utils import timezone

from fangkong.demo.constants import CASE_PLAN, CHIYU_COMPOUND, DESTINATIONS, PENDING_BUILDING
from fangkong.health import services as health
from fangkong.health.models import Case, Observation, Transfer
from fangkong.places.models import Household
from fangkong.zones import services as zones
from fangkong.zones.models import Level, Zone


def load_outbreak(admin, street, community) -> None:
    destinations = _destinations(admin, street)
    cases = [_open_case(admin, household, days_ago, severity)
             for household, days_ago, severity in _case_households(community)]
    _accept_zones(admin, community)
    _negative_rounds(admin, community)
    _carry_out_transfers(admin, community, destinations, today_case=cases[-1])


def _destinations(admin, street) -> dict:
    return {kind: health.destination_create(actor=admin, street=street, name=name, kind=kind, address=address,
                                            capacity=capacity)
            for name, kind, address, capacity in DESTINATIONS}


def _case_households(community):
    """One household per planned case: the first of the planned size in its unit with nobody under observation."""
    observed = set(Observation.objects.filter(community=community).values_list("household_id", flat=True))
    taken = set()
    for building, unit, size, days_ago, severity in CASE_PLAN:
        households = (Household.objects.filter(compound__name=CHIYU_COMPOUND, compound__community=community,
                                               building__number=building, unit__number=unit)
                      .exclude(pk__in=observed | taken).prefetch_related("members").order_by("room"))
        household = next(h for h in households if len(h.members.all()) == size)
        taken.add(household.pk)
        yield household, days_ago, severity


def _open_case(admin, household: Household, days_ago: int, severity: str) -> Case:
    person = min(household.members.all(), key=lambda member: member.birth_date or datetime.date.min)
    confirmed_at = _confirmed_at(days_ago)
    return health.case_open(actor=admin, person=person, source=Case.Source.TEST_RESULT, confirmed_at=confirmed_at,
                            severity=severity, location="家中", source_ref="区疾控中心核酸复核阳性")


def _confirmed_at(days_ago: int) -> datetime.datetime:
    """Two hours before now, days ago; still within the local day, so that just after midnight
    today's case is today's."""
    now = timezone.localtime()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return max(now - datetime.timedelta(hours=2), midnight) - datetime.timedelta(days=days_ago)


def _accept_zones(admin, community) -> None:
    """Seal the units under guard and control the buildings, except building 3's proposal from today."""
    for zone in Zone.objects.filter(community=community, status=Zone.Status.PROPOSED).select_related("building"):
        if zone.level == Level.CONTROLLED and zone.building.number == PENDING_BUILDING:
            continue
        zones.zone_accept(actor=admin, zone=zone, guarded=zone.level == Level.SEALED,
                          rules="足不出户,上门核酸,代购物资" if zone.level == Level.SEALED else "人不出区,错峰取物")


def _negative_rounds(admin, community) -> None:
    for zone in Zone.objects.filter(community=community, status=Zone.Status.ACTIVE, level=Level.SEALED):
        zones.zone_round_record(actor=admin, zone=zone, on=timezone.localdate(), negative=True,
                                note="上门采样,全员阴性")


def _carry_out_transfers(admin, community, destinations: dict, today_case: Case) -> None:
    """Every transfer but today's case has been driven: picked up and arrived."""
    planned = Transfer.objects.filter(community=community, status=Transfer.Status.PLANNED).exclude(case=today_case)
    for transfer in planned.order_by("id"):
        health.transfer_update(actor=admin, transfer=transfer, destination=destinations[transfer.destination_kind],
                               vehicle="蒙A·D0120", crew="司机 王师傅;随车医护 2 人")
        now = timezone.now()
        health.transfer_pick_up(actor=admin, transfer=transfer, at=now - datetime.timedelta(minutes=50))
        health.transfer_arrive(actor=admin, transfer=transfer, at=now - datetime.timedelta(minutes=10))
