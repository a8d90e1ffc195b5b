"""Scoped reads of mass testing: rounds, sites, tubes, samples, results, re-sampling tasks, coverage and figures."""

import datetime

from django.http import Http404
from django.shortcuts import get_object_or_404

from fangkong.core.converters import is_id
from fangkong.health.models import Case
from fangkong.people.models import Person, PersonTag
from fangkong.testing.models import RoundExemption, SamplingSite, TestRound
from fangkong.zones.places import households_in


# ---------------------------------------------------------------------------
# Rounds, sites and exemptions
# ---------------------------------------------------------------------------


def _months_before(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` earlier (the month's last day when it is shorter)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def round_people(round: TestRound):
    """Everyone the round covers before any exemption: the households of its community, its grids or its zone,
    and for a key-groups round only the people carrying one of its tags. Not actor-scoped."""
    rows = Person.objects.filter(household__community_id=round.community_id)
    grid_ids = list(round.grids.values_list("id", flat=True))
    if grid_ids:
        rows = rows.filter(household__grid_id__in=grid_ids)
    if round.kind == TestRound.Kind.ZONE and round.zone_id:
        rows = rows.filter(household__in=households_in(round.zone))
    if round.kind == TestRound.Kind.KEY_GROUPS:
        tagged = PersonTag.objects.filter(tag__in=round.key_tags or []).values("person_id")
        rows = rows.filter(id__in=tagged)
    return rows


_HOSPITAL_STATUSES = (Case.Status.IN_HOSPITAL, Case.Status.IN_CENTRAL_QUARANTINE)


def _case_statuses(round: TestRound) -> list[str]:
    """The open case statuses that leave a person out of the round: every open case when the round exempts
    positives, the ones in hospital or central quarantine when it exempts people in hospital."""
    if round.exempt_positive:
        return list(Case.OPEN_STATUSES)
    return list(_HOSPITAL_STATUSES) if round.exempt_in_hospital else []


def _infant_cutoff(round: TestRound) -> datetime.date | None:
    """People born after this day are too young to be sampled in the round; None when nobody is."""
    return _months_before(round.on, round.infant_months) if round.infant_months else None


def expected_people(round: TestRound):
    """The people the round expects to sample: its people minus exemptions by hand, infants younger than
    `infant_months` on the round's day, and people with an open case (positive, or in hospital) by its flags.
    Not actor-scoped: callers scope."""
    rows = round_people(round).exclude(id__in=RoundExemption.objects.filter(round=round).values("person_id"))
    cutoff = _infant_cutoff(round)
    if cutoff is not None:
        rows = rows.exclude(birth_date__gt=cutoff)
    statuses = _case_statuses(round)
    if statuses:
        rows = rows.exclude(id__in=Case.objects.filter(status__in=statuses).values("person_id"))
    return rows


def exemption_reasons(round: TestRound, people=None) -> dict[int, str]:
    """Why each of the round's people (or of `people`) is left out: person id → RoundExemption.Reason.
    People not in the result are expected."""
    rows = round_people(round)
    if people is not None:
        rows = rows.filter(id__in=[getattr(p, "pk", p) for p in people])
    reasons: dict[int, str] = {}
    statuses = _case_statuses(round)
    if statuses:
        cases = Case.objects.filter(status__in=statuses, person__in=rows).values_list("person_id", "status")
        for person_id, status in cases:
            in_hospital = round.exempt_in_hospital and status in _HOSPITAL_STATUSES
            reasons[person_id] = RoundExemption.Reason.IN_HOSPITAL if in_hospital else RoundExemption.Reason.POSITIVE
    cutoff = _infant_cutoff(round)
    if cutoff is not None:
        for person_id in rows.filter(birth_date__gt=cutoff).values_list("id", flat=True):
            reasons[person_id] = RoundExemption.Reason.INFANT
    for person_id, reason in RoundExemption.objects.filter(round=round, person__in=rows).values_list("person_id", "reason"):
        reasons[person_id] = reason
    return reasons


def _get(rows, pk):
    if not is_id(pk):
        raise Http404
    return get_object_or_404(rows, pk=pk)


def rounds_for(actor, *, status=""):
    return TestRound.objects.in_scope(actor).select_related("community", "zone", "created_by") \
        .prefetch_related("grids").narrowed(status=status)


def get_round_for(actor, pk) -> TestRound:
    return _get(rounds_for(actor), pk)


def exemptions_of(actor, round: TestRound):
    """The round's exemptions by hand that the actor sees, with the person's address."""
    return RoundExemption.objects.in_scope(actor).filter(round=round).select_related(
        "person__household__building", "person__household__unit", "recorded_by").order_by("person__household_id", "id")


def get_exemption_for(actor, pk, *, round: TestRound) -> RoundExemption:
    return _get(exemptions_of(actor, round), pk)


def sites_for(actor, *, include_inactive=True):
    rows = SamplingSite.objects.in_scope(actor).select_related("community").prefetch_related("team")
    return rows if include_inactive else rows.filter(active=True)


def get_site_for(actor, pk) -> SamplingSite:
    return _get(sites_for(actor), pk)


# ---------------------------------------------------------------------------
# Sampling
# ---------------------------------------------------------------------------


# ---------------------------------------------------------------------------
# Lab results and positive tubes
# ---------------------------------------------------------------------------


# ---------------------------------------------------------------------------
# Coverage and figures
# ---------------------------------------------------------------------------
