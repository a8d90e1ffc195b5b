"""Scoped reads of checkpoints, passes and passages, the offline scanner's rules snapshot, tracing and figures."""

import datetime
from dataclasses import dataclass, field
from typing import NamedTuple

from django.conf import settings
from django.db.models import Count, Q
from django.db.models.functions import TruncHour
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.access import facts
from fangkong.access.models import Checkpoint, Direction, Pass, Passage, Reason, Result
from fangkong.access.rules import FEVER, quota_period
from fangkong.core.clock import parse_moment
from fangkong.core.converters import is_id
from fangkong.core.errors import DomainError
from fangkong.core.masking import mask_phone
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



# ---------------------------------------------------------------------------
# Tracing: who passed the same gates within minutes of a person
# ---------------------------------------------------------------------------

TRACE_MINUTES = 30
TRACE_MINUTES_RANGE = (1, 240)
TRACE_DAYS_LONGEST = 31
TRACE_OWN_LIMIT = 500


@dataclass
class TraceWindow:
    """One passage of the traced person, and who else passed that gate within the window around it."""

    passage: Passage
    seen: set = field(default_factory=set)

    @property
    def people(self) -> int:
        return sum(1 for kind, _key in self.seen if kind == "p")

    @property
    def visitors(self) -> int:
        return sum(1 for kind, _key in self.seen if kind == "v")

    @property
    def others(self) -> int:
        return len(self.seen)


@dataclass
class TracedContact:
    """Someone who passed a gate near the traced person: a registered person, or a visitor by phone."""

    person: Person | None
    visitor_name: str
    visitor_phone: str
    visitor_id_number: str
    windows: set
    nearest_minutes: float
    last_at: datetime.datetime
    checkpoints: set

    @property
    def key(self) -> str:
        return f"p{self.person.pk}" if self.person is not None else f"v{self.visitor_phone or self.visitor_name}"

    @property
    def name(self) -> str:
        return self.person.name if self.person is not None else self.visitor_name

    @property
    def overlaps(self) -> int:
        return len(self.windows)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.person.phone if self.person is not None else self.visitor_phone)


@dataclass
class Trace:
    person: Person
    start: datetime.datetime
    end: datetime.datetime
    minutes: int
    windows: list
    contacts: list

    @property
    def people(self) -> int:
        return sum(1 for contact in self.contacts if contact.person is not None)

    @property
    def visitors(self) -> int:
        return sum(1 for contact in self.contacts if contact.person is None)


def _windows_condition(own: list[Passage], minutes: int) -> Q:
    margin = datetime.timedelta(minutes=minutes)
    condition = Q(pk__in=[])
    for passage in own:
        condition |= Q(checkpoint_id=passage.checkpoint_id, occurred_at__gte=passage.occurred_at - margin,
                       occurred_at__lte=passage.occurred_at + margin)
    return condition


_NEARBY = ("checkpoint_id", "occurred_at", "person_id", "visitor_name", "visitor_phone", "visitor_id_number")


def _near(own: list[Passage], others, margin: datetime.timedelta, gate_names: dict) -> tuple[dict, dict]:
    """Each other passage counted into the windows of the person's passages it lies in: the contacts found by
    key ("p", person id) or ("v", phone or name), and the windows' keys."""
    by_gate: dict[int, list[TraceWindow]] = {}
    for window in own:
        by_gate.setdefault(window.passage.checkpoint_id, []).append(window)
    found: dict = {}
    for gate, at, person_id, name, phone, id_number in others:
        key = ("p", person_id) if person_id else ("v", phone or name)
        for window in by_gate.get(gate, []):
            gap = abs(at - window.passage.occurred_at)
            if gap > margin:
                continue
            window.seen.add(key)
            if key not in found:
                found[key] = TracedContact(person=person_id, visitor_name=name, visitor_phone=phone,
                                           visitor_id_number=id_number, windows=set(), nearest_minutes=float("inf"),
                                           last_at=at, checkpoints=set())
            contact = found[key]
            contact.windows.add(window.passage.pk)
            contact.nearest_minutes = min(contact.nearest_minutes, gap.total_seconds() / 60)
            contact.last_at = max(contact.last_at, at)
            contact.checkpoints.add(gate_names[gate])
    return found


def trace(actor, person: Person, *, start: datetime.datetime, end: datetime.datetime,
          minutes: int = TRACE_MINUTES) -> Trace:
    """Every passage of `person` between start and end, and everyone else who passed the same gate within
    ± `minutes` of each: per passage how many (people, visitors), and each one found with how many of the
    person's passages they were near, the nearest gap and their last time there (the last exposure).

    Two index range reads whatever the table's size: the person's own passages by (person, time), then
    every window at once by (checkpoint, time), read as plain values; then the people found, by id. Only
    passages in the actor's scope are read.
    """
    own = list(Passage.objects.in_scope(actor).filter(person=person, occurred_at__gte=start, occurred_at__lte=end)
               .select_related("checkpoint").order_by("occurred_at", "id")[:TRACE_OWN_LIMIT])
    windows = [TraceWindow(passage=passage) for passage in own]
    found: dict = {}
    if own:
        others = (Passage.objects.in_scope(actor).filter(_windows_condition(own, minutes)).exclude(person=person)
                  .order_by().values_list(*_NEARBY))
        gate_names = {passage.checkpoint_id: passage.checkpoint.name for passage in own}
        found = _near(windows, others, datetime.timedelta(minutes=minutes), gate_names)
        people = Person.objects.filter(pk__one_of=[key for kind, key in found if kind == "p"]).only(
            "name", "phone", "id_number", "household_id", "community_id").in_bulk()
        for (kind, key), contact in found.items():
            contact.person = people.get(key) if kind == "p" else None
    contacts = sorted(found.values(), key=lambda c: (-c.overlaps, c.nearest_minutes, c.name))
    return Trace(person=person, start=start, end=end, minutes=minutes, windows=windows, contacts=contacts)


# ---------------------------------------------------------------------------
# Figures for the daily report
# ---------------------------------------------------------------------------


class ReasonCount(NamedTuple):
    result: str
    reason: str
    count: int

    @property
    def label(self) -> str:
        return Reason(self.reason).label

    @property
    def result_label(self) -> str:
        return Result(self.result).label


@dataclass
class GateHours:
    checkpoint: Checkpoint
    counts: list

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass
class PassageFigures:
    day: datetime.date
    hours: list
    gates: list
    results: dict
    reasons: list
    visitors: int
    vehicles: int
    plates: int
    offline: int
    conflicts: int

    @property
    def total(self) -> int:
        return sum(self.results.values())


def passage_figures(actor, day: datetime.date, *, checkpoint: Checkpoint | None = None) -> PassageFigures:
    """One local day at the gates in scope: passages per gate per hour, results, refusals and persuasions by
    reason, visitors, vehicles (passages with a plate, and distinct plates), offline and conflicting ones.

    Counts without personal data, read by (checkpoint, time): four grouped queries over the day.
    """
    tz = timezone.get_current_timezone()
    gates = checkpoints_for(actor) if checkpoint is None else Checkpoint.objects.filter(pk=checkpoint.pk)
    rows = Passage.objects.filter(checkpoint__in=gates.values("pk")).between(*day_bounds(day)).order_by()
    hourly = list(rows.annotate(hour=TruncHour("occurred_at", tzinfo=tz)).values("checkpoint_id", "hour")
                  .annotate(n=Count("id")))
    hours = sorted({entry["hour"] for entry in hourly})
    position = {hour: i for i, hour in enumerate(hours)}
    per_gate = {gate.pk: GateHours(checkpoint=gate, counts=[0] * len(hours))
                for gate in Checkpoint.objects.filter(pk__in={entry["checkpoint_id"] for entry in hourly})}
    for entry in hourly:
        per_gate[entry["checkpoint_id"]].counts[position[entry["hour"]]] += entry["n"]
    results = {result: 0 for result in Result.values}
    reasons = []
    for entry in rows.values("result", "reason").annotate(n=Count("id")).order_by("-n", "reason"):
        results[entry["result"]] += entry["n"]
        if entry["result"] != Result.ALLOWED:
            reasons.append(ReasonCount(entry["result"], entry["reason"], entry["n"]))
    counts = rows.aggregate(
        visitors=Count("id", filter=Q(person__isnull=True) & ~Q(visitor_name="")),
        vehicles=Count("id", filter=~Q(plate="")), plates=Count("plate", distinct=True, filter=~Q(plate="")),
        offline=Count("id", filter=Q(offline=True)), conflicts=Count("id", filter=Q(conflict=True)))
    ordered = sorted(per_gate.values(), key=lambda row: (row.checkpoint.name, row.checkpoint.pk))
    return PassageFigures(day=day, hours=hours, gates=ordered, results=results, reasons=reasons, **counts)


def clean_trace_window(start, end, minutes) -> tuple[datetime.datetime, datetime.datetime, int]:
    """The tracing window as asked, or an error naming the field: start before end, at most 31 days, ± 1–240 minutes."""
    start = parse_moment(start, field="start", label=_("开始时间"))
    end = parse_moment(end, field="end", label=_("结束时间")) or timezone.now()
    if start is None:
        start = end - datetime.timedelta(days=14)
    if start >= end:
        message = _("开始时间应早于结束时间")
        raise DomainError(message, fields={"start": message})
    if end - start > datetime.timedelta(days=TRACE_DAYS_LONGEST):
        message = _("追踪时段最长 %(n)s 天") % {"n": TRACE_DAYS_LONGEST}
        raise DomainError(message, fields={"start": message})
    low, high = TRACE_MINUTES_RANGE
    if minutes in (None, ""):
        minutes = TRACE_MINUTES
    if isinstance(minutes, bool) or not str(minutes).isdigit() or not low <= int(minutes) <= high:
        message = _("前后分钟数应为 %(low)s–%(high)s") % {"low": low, "high": high}
        raise DomainError(message, fields={"minutes": message})
    return start, end, int(minutes)
