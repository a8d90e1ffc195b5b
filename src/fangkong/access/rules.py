"""Whether someone may pass a checkpoint: one pure function from the facts of one scan.

The server decides every passage through `decide`; the offline scanner (static/access/scanner.js)
applies the same rules, in the same order, to the rules snapshot it keeps, and the server decides
each passage again when it syncs. In order:

1. the gate itself: inactive, the direction it does not allow, outside its hours → refused;
2. the code: forged, expired, of another community, naming nobody → refused;
3. a temperature of 37.3 ℃ or more → refused (a visitor: persuaded back);
4. a visitor: coming in when the gate admits no visitors → persuaded back; otherwise allowed;
5. a pass shown that is revoked or not valid at the time → refused;
6. coming in (home) → allowed;
7. going out from a sealed (足不出户) or controlled (人不出区) zone → refused, unless a medical
   exception is logged for that day or the person holds a medical pass: a medical need is never refused;
8. going out where the gate asks a recent negative test and none is there → refused;
9. going out where the gate asks a pass (封闭管理), or with a pass shown: without a usable pass →
   persuaded back; with its quota used up this period → persuaded back; otherwise allowed, and the
   exit counts against the quota.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.access.models import Direction, Reason, Result
from fangkong.zones.models import Movement

FEVER = Decimal("37.3")


@dataclass(frozen=True)
class GateRules:
    """What a checkpoint asks (a snapshot of the Checkpoint row)."""

    direction: str = "both"
    opens_at: datetime.time | None = None
    closes_at: datetime.time | None = None
    pass_required: bool = False
    visitors_admitted: bool = True
    test_within_hours: int | None = None
    active: bool = True

    @classmethod
    def of(cls, checkpoint) -> "GateRules":
        return cls(direction=checkpoint.direction, opens_at=checkpoint.opens_at, closes_at=checkpoint.closes_at,
                   pass_required=checkpoint.pass_required, visitors_admitted=checkpoint.visitors_admitted,
                   test_within_hours=checkpoint.test_within_hours, active=checkpoint.active)

    def open_at(self, moment: datetime.datetime) -> bool:
        """Within the gate's hours (a gate without hours is open all day; hours may run past midnight)."""
        if self.opens_at is None or self.closes_at is None:
            return True
        now = timezone.localtime(moment).time()
        if self.opens_at <= self.closes_at:
            return self.opens_at <= now < self.closes_at
        return now >= self.opens_at or now < self.closes_at


@dataclass(frozen=True)
class PassFacts:
    """A pass as the decision needs it: validity, quota, and the exits already counted in the period of the scan."""

    pk: int
    kind: str
    valid_from: datetime.datetime
    valid_until: datetime.datetime
    revoked: bool = False
    quota_exits: int | None = None
    quota_days: int | None = None
    used: int = 0

    def valid_at(self, moment: datetime.datetime) -> bool:
        return not self.revoked and self.valid_from <= moment < self.valid_until

    @property
    def quota_left(self) -> int | None:
        return None if self.quota_exits is None else max(self.quota_exits - self.used, 0)


def quota_period(valid_from: datetime.datetime, days: int, moment: datetime.datetime) -> tuple:
    """The period of `days` days, counted in local days from the pass's first day, that holds `moment`."""
    first = timezone.localdate(valid_from)
    index = max((timezone.localdate(moment) - first).days, 0) // days
    start = first + datetime.timedelta(days=index * days)
    zone = timezone.get_current_timezone()
    begins = datetime.datetime.combine(start, datetime.time(), tzinfo=zone)
    return begins, datetime.datetime.combine(start + datetime.timedelta(days=days), datetime.time(), tzinfo=zone)


@dataclass(frozen=True)
class ScanFacts:
    """Everything `decide` looks at for one scan. `code_problem` is the Reason a bad code earned."""

    gate: GateRules
    direction: str
    at: datetime.datetime
    temperature: Decimal | None = None
    visitor: bool = False
    code_problem: str = ""
    movement: str = Movement.FREE
    medical_exception: bool = False
    passes: tuple[PassFacts, ...] = field(default_factory=tuple)
    pass_shown: bool = False
    tested_negative: bool = True


@dataclass(frozen=True)
class Decision:
    result: str
    reason: str = Reason.NONE
    pass_id: int | None = None
    quota_used: int | None = None
    quota_total: int | None = None

    @property
    def allowed(self) -> bool:
        return self.result == Result.ALLOWED

    @property
    def counts_exit(self) -> bool:
        """An allowed exit through a pass with a quota: one more used this period."""
        return self.allowed and self.quota_total is not None

    def message(self, direction: str) -> str:
        """What the guard's screen says: "放行 · 出 · 本期第 1 次,共 1 次" or "不予通行 · 封控区足不出户"."""
        head = f"{Result(self.result).label} · {Direction(direction).label}"
        if self.quota_total is not None and self.allowed:
            return head + " · " + _("本期第 %(n)s 次,共 %(total)s 次") % {
                "n": self.quota_used, "total": self.quota_total}
        if self.reason:
            return f"{head} · {Reason(self.reason).label}"
        return head


def _gate_refusal(facts: ScanFacts) -> str:
    gate = facts.gate
    if not gate.active:
        return Reason.CHECKPOINT_INACTIVE
    if gate.direction not in ("both", facts.direction):
        return Reason.WRONG_DIRECTION
    if not gate.open_at(facts.at):
        return Reason.CLOSED_HOURS
    return ""


def _visitor(facts: ScanFacts) -> Decision:
    if facts.temperature is not None and facts.temperature >= FEVER:
        return Decision(Result.PERSUADED_BACK, Reason.FEVER)
    if facts.direction == Direction.IN and not facts.gate.visitors_admitted:
        return Decision(Result.PERSUADED_BACK, Reason.VISITORS_NOT_ADMITTED)
    return Decision(Result.ALLOWED, Reason.VISITOR)


def _shown_pass_refusal(facts: ScanFacts) -> str:
    if not facts.pass_shown or not facts.passes:
        return ""
    shown = facts.passes[0]
    if shown.revoked:
        return Reason.PASS_REVOKED
    if not shown.valid_at(facts.at):
        return Reason.PASS_NOT_VALID
    return ""


def _medical_pass(facts: ScanFacts) -> PassFacts | None:
    return next((p for p in facts.passes if p.kind == "medical" and p.valid_at(facts.at)), None)


def _best_pass(facts: ScanFacts) -> PassFacts | None:
    """The pass an exit goes through: the one shown, else a valid one without a quota, else the one with most left."""
    usable = [p for p in facts.passes if p.valid_at(facts.at)]
    if facts.pass_shown or not usable:
        return usable[0] if usable else None
    unlimited = [p for p in usable if p.quota_exits is None]
    if unlimited:
        return unlimited[0]
    return max(usable, key=lambda p: (p.quota_left, -p.pk))


def _through_pass(facts: ScanFacts) -> Decision:
    chosen = _best_pass(facts)
    if chosen is None:
        return Decision(Result.PERSUADED_BACK, Reason.PASS_REQUIRED)
    if chosen.quota_exits is None:
        return Decision(Result.ALLOWED, Reason.PASS, pass_id=chosen.pk)
    if chosen.used >= chosen.quota_exits:
        return Decision(Result.PERSUADED_BACK, Reason.QUOTA_USED, pass_id=chosen.pk, quota_used=chosen.used,
                        quota_total=chosen.quota_exits)
    return Decision(Result.ALLOWED, Reason.PASS, pass_id=chosen.pk, quota_used=chosen.used + 1,
                    quota_total=chosen.quota_exits)


_ZONE_REASONS = {Movement.SEALED: Reason.ZONE_SEALED, Movement.CONTROLLED: Reason.ZONE_CONTROLLED}


def decide(facts: ScanFacts) -> Decision:
    """The decision for one scan (see the module's docstring for the order of the rules)."""
    refusal = _gate_refusal(facts) or facts.code_problem
    if refusal:
        return Decision(Result.REFUSED, refusal)
    if facts.visitor:
        return _visitor(facts)
    if facts.temperature is not None and facts.temperature >= FEVER:
        return Decision(Result.REFUSED, Reason.FEVER)
    refusal = _shown_pass_refusal(facts)
    if refusal:
        return Decision(Result.REFUSED, refusal, pass_id=facts.passes[0].pk)
    if facts.direction == Direction.IN:
        return Decision(Result.ALLOWED, pass_id=facts.passes[0].pk if facts.pass_shown else None)
    if facts.movement in _ZONE_REASONS:
        medical = _medical_pass(facts)
        if facts.medical_exception or medical is not None:
            return Decision(Result.ALLOWED, Reason.MEDICAL, pass_id=None if facts.medical_exception else medical.pk)
        return Decision(Result.REFUSED, _ZONE_REASONS[facts.movement])
    if facts.gate.test_within_hours and not facts.tested_negative:
        return Decision(Result.REFUSED, Reason.TEST_MISSING)
    if facts.gate.pass_required or facts.pass_shown:
        return _through_pass(facts)
    return Decision(Result.ALLOWED)
