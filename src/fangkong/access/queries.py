"""Scoped reads of checkpoints, passes and passages, the offline scanner's rules snapshot, tracing and figures."""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from fangkong.access import facts
from fangkong.access.models import Checkpoint, Direction, Pass, Passage, Result
from fangkong.access.rules import FEVER, quota_period
from fangkong.core.converters import is_id
from fangkong.people.models import Person
from fangkong.testing import models as testing_models
from fangkong.zones.models import MedicalException, Movement

# ---------------------------------------------------------------------------
# Checkpoints and passes
# ---------------------------------------------------------------------------


def _get(rows, pk):
    """One row of a scoped list; an id that cannot exist (0, "x", 2**64) is 404 like any other."""
    if not is_id(pk):
        raise Http404
    return get_object_or_404(rows, pk=pk)


def checkpoints_for(actor, *, community=None, active: bool | None = None):
    rows = Checkpoint.objects.in_scope(actor).select_related("community", "compound", "post").narrowed(
        community=community)
    return rows if active is None else rows.filter(active=active)


def get_checkpoint_for(actor, pk) -> Checkpoint:
    return _get(checkpoints_for(actor), pk)


def get_checkpoint_of_poster(pk) -> Checkpoint:
    """The gate a poster names (its token already verified), for the public self-scan page."""
    return _get(Checkpoint.objects.select_related("community", "compound"), pk)


def passes_for(actor, *, kind: str = "", household=None, person=None, state: str = ""):
    """Passes in scope, newest first; `state` "current", "revoked" or "ended" narrows them."""
    rows = (Pass.objects.in_scope(actor).narrowed(kind=kind, household=household, person=person)
            .select_related("community", "person", "household__unit__building", "household__compound",
                            "issued_by", "revoked_by"))
    now = timezone.now()
    if state == "current":
        rows = rows.current(now)
    elif state == "revoked":
        rows = rows.filter(revoked_at__isnull=False)
    elif state == "ended":
        rows = rows.filter(revoked_at__isnull=True, valid_until__lte=now)
    return rows


def get_pass_for(actor, pk) -> Pass:
    return _get(passes_for(actor), pk)


@dataclass(frozen=True)
class QuotaLeft:
    """What a pass has left in the period holding `at`."""

    used: int
    total: int | None
    period_start: datetime.datetime | None
    period_end: datetime.datetime | None

    @property
    def left(self) -> int | None:
        return None if self.total is None else max(self.total - self.used, 0)


def quota_left(pass_: Pass, at: datetime.datetime | None = None) -> QuotaLeft:
    at = at or timezone.now()
    if not pass_.has_quota:
        return QuotaLeft(used=0, total=None, period_start=None, period_end=None)
    begins, ends = quota_period(pass_.valid_from, pass_.quota_days, at)
    used = Passage.objects.filter(used_pass=pass_, occurred_at__gte=begins, occurred_at__lt=ends,
                                  direction=Direction.OUT, result=Result.ALLOWED).count()
    return QuotaLeft(used=used, total=pass_.quota_exits, period_start=begins, period_end=ends)


def own_passes(actor):
    """A resident's household's passes and their own, current first, each with what is left this period."""
    passes = list(passes_for(actor).order_by("revoked_at", "-valid_until", "-id"))
    for shown in passes:
        shown.quota = quota_left(shown)
    return passes


# ---------------------------------------------------------------------------
# Passages
# ---------------------------------------------------------------------------


def passages_for(actor, *, checkpoint=None, day: datetime.date | None = None, result: str = "",
                 conflict: bool | None = None, offline: bool | None = None):
    """Passages in scope, newest first, narrowed by gate, local day, result, conflict and offline."""
    rows = (Passage.objects.in_scope(actor).narrowed(checkpoint=checkpoint, result=result)
            .select_related("checkpoint", "person", "guard"))
    if day is not None:
        rows = rows.between(*day_bounds(day))
    if conflict is not None:
        rows = rows.filter(conflict=conflict)
    if offline is not None:
        rows = rows.filter(offline=offline)
    return rows.order_by("-occurred_at", "-id")


def get_passage_for(actor, pk) -> Passage:
    return _get(passages_for(actor), pk)


def day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    zone = timezone.get_current_timezone()
    start = datetime.datetime.combine(day, datetime.time(), tzinfo=zone)
    return start, start + datetime.timedelta(days=1)


def recent_passages_at(actor, checkpoint: Checkpoint, *, limit: int = 20) -> list[Passage]:
    return list(passages_for(actor, checkpoint=checkpoint)[:limit])


# ---------------------------------------------------------------------------
# The offline scanner's rules snapshot
# ---------------------------------------------------------------------------

SNAPSHOT_HOURS = 12


def _masked_name(name: str) -> str:
    """"张*" / "欧阳**": enough for a guard to compare with the person in front, not a list of names."""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def _time(value: datetime.time | None) -> str | None:
    return value.strftime("%H:%M") if value else None


def _tested_until(person_ids: list[int], hours: int | None, now: datetime.datetime) -> dict[int, str]:
    """Until when each person's latest resulted sample (if negative) lets them through a gate asking `hours`."""
    if not hours or not person_ids:
        return {}
    latest: dict[int, tuple] = {}
    rows = (testing_models.Sample.objects.filter(person_id__one_of=person_ids, void=False,
                                  taken_at__gte=now - datetime.timedelta(hours=hours))
            .exclude(tube__result="").order_by().values_list("person_id", "taken_at", "tube__result"))
    for person_id, taken_at, result in rows:
        if person_id not in latest or taken_at > latest[person_id][0]:
            latest[person_id] = (taken_at, result)
    return {pk: (taken_at + datetime.timedelta(hours=hours)).isoformat()
            for pk, (taken_at, result) in latest.items() if result == testing_models.Result.NEGATIVE}


def _snapshot_passes(community_id: int, now: datetime.datetime) -> dict:
    passes = list(Pass.objects.filter(community_id=community_id, valid_until__gt=now).order_by("pk"))
    quota = [p for p in passes if p.has_quota]
    since = min((quota_period(p.valid_from, p.quota_days, now)[0] for p in quota), default=now)
    exits: dict[int, list] = {}
    if quota:
        rows = (Passage.objects.filter(used_pass_id__one_of=[p.pk for p in quota], occurred_at__gte=since,
                                       direction=Direction.OUT, result=Result.ALLOWED)
                .order_by().values_list("used_pass_id", "occurred_at"))
        for pass_id, at in rows:
            exits.setdefault(pass_id, []).append(at.isoformat())
    return {str(p.pk): {"person": p.person_id, "household": p.household_id, "kind": p.kind,
                        "valid_from": p.valid_from.isoformat(), "valid_until": p.valid_until.isoformat(),
                        "revoked": p.revoked_at is not None, "quota_exits": p.quota_exits, "quota_days": p.quota_days,
                        "exits": exits.get(p.pk, [])} for p in passes}


def rules_snapshot(checkpoint: Checkpoint, now: datetime.datetime | None = None) -> dict:
    """What the gate's scanner keeps to decide without the network, as `rules.decide` would (scanner.js).

    The gate's rules; each person of the community with their household, a masked name, their movement
    status, a medical exception of today and until when a recent negative test counts; and the community's
    passes with the exits already counted. A scanner cannot verify a code's signature offline: the
    server reads every code again when the passage syncs, and a forged one becomes a conflict.
    """
    now = now or timezone.now()
    people = list(Person.objects.filter(community_id=checkpoint.community_id).order_by("pk")
                  .values_list("pk", "household_id", "name"))
    status = facts.movements({household for _pk, household, _name in people if household})
    strict = {pk for pk, household, _name in people if status.get(household) in (Movement.SEALED, Movement.CONTROLLED)}
    medical = set(MedicalException.objects.filter(person_id__one_of=list(strict), valid_on=timezone.localdate(now))
                  .values_list("person_id", flat=True)) if strict else set()
    tested = _tested_until([pk for pk, _h, _n in people], checkpoint.test_within_hours, now)
    return {
        "version": 1,
        "issued_at": now.isoformat(),
        "valid_until": (now + datetime.timedelta(hours=SNAPSHOT_HOURS)).isoformat(),
        "fever": str(FEVER),
        "code_days": settings.FANGKONG_PERSONAL_CODE_DAYS,
        "checkpoint": {"id": checkpoint.pk, "name": checkpoint.name, "community_id": checkpoint.community_id,
                       "direction": checkpoint.direction, "opens_at": _time(checkpoint.opens_at),
                       "closes_at": _time(checkpoint.closes_at), "pass_required": checkpoint.pass_required,
                       "visitors_admitted": checkpoint.visitors_admitted,
                       "test_within_hours": checkpoint.test_within_hours, "active": checkpoint.active},
        "people": {str(pk): {"household": household, "name": _masked_name(name),
                             "movement": status.get(household, Movement.FREE), "medical": pk in medical,
                             "tested_until": tested.get(pk)} for pk, household, name in people},
        "passes": _snapshot_passes(checkpoint.community_id, now),
    }


# ---------------------------------------------------------------------------
# Conflicts for the supervisor
# ---------------------------------------------------------------------------


def conflict_counts(actor, checkpoint: Checkpoint | None = None) -> int:
    rows = Passage.objects.in_scope(actor).filter(conflict=True)
    if checkpoint is not None:
        rows = rows.filter(checkpoint=checkpoint)
    return rows.count()

