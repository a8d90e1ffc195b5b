"""Every write about following people: colours and follow-ups, risk areas and arrivals, lists, rounds."""

import datetime

from django.db import transaction
from django.db.models import Max
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.models import Role
from fangkong.accounts.roles import is_staff_member
from fangkong.core import audit
from fangkong.core.errors import DomainError, NotAllowed
from fangkong.core.scope import ensure_in_scope
from fangkong.core.errors import Conflict
from fangkong.core.idnumbers import normalize_text
from fangkong.core.scope import community_ids_in_scope
from fangkong.people.models import Person
from fangkong.people.services import clean_person_data, person_create
from fangkong.places.models import Community, Household
from fangkong.screening.colors import REVISIT_DAYS, ColorFacts, risk_color
from fangkong.screening.models import Arrival, Color, ColorChange, ContactOutcome, FollowUp, FollowUpContact
from fangkong.screening.models import Anomaly, HouseholdVisit, ScreeningRound, VisitMethod

# Follow-ups and the four colours

_FACT_FIELDS = ("reached", "cooperating", "verified", "exposed", "under_observation", "left_community")


def _require_staff(actor) -> None:
    if not is_staff_member(actor):
        raise NotAllowed(_("只有工作人员可以处理跟踪对象"))


def _facts_of(follow_up: FollowUp) -> ColorFacts:
    return ColorFacts(**{name: getattr(follow_up, name) for name in _FACT_FIELDS})


def _observed_now(person: Person) -> bool:
    from fangkong.health.models import Observation

    return Observation.objects.active().filter(person=person).exists()


def _exposed_by_arrival(person: Person) -> bool:
    return Arrival.objects.filter(person=person, exposed=True).exists()


def _apply_color(*, actor, follow_up: FollowUp, reason: str) -> None:
    """Store the colour the facts (or the override) give, and log a change when it changes."""
    follow_up.computed_color = risk_color(_facts_of(follow_up))
    new_color = follow_up.override_color or follow_up.computed_color
    previous = follow_up.risk_color
    follow_up.risk_color = new_color
    if previous != new_color:
        ColorChange.objects.create(follow_up=follow_up, community_id=follow_up.community_id, from_color=previous or "",
                                   to_color=new_color, reason=reason[:200], overridden=bool(follow_up.override_color),
                                   changed_by=actor if actor is not None and actor.pk else None)
        if new_color == Color.RED:
            follow_up.next_visit_on = timezone.localdate()


def _next_visit(color: str) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=REVISIT_DAYS[Color(color)])


@transaction.atomic
def follow_up_open(*, actor, person: Person, reason: str) -> FollowUp:
    """Start following a person (or refresh the facts of an existing follow-up) and colour them."""
    follow_up = FollowUp.objects.select_for_update().filter(person=person).first()
    created = follow_up is None
    if created:
        follow_up = FollowUp(person=person, community_id=person.community_id, reason=reason[:200],
                             next_visit_on=timezone.localdate())
    elif follow_up.closed_at is not None:
        follow_up.closed_at = None
        follow_up.reason = reason[:200]
        follow_up.next_visit_on = timezone.localdate()
    follow_up.exposed = _exposed_by_arrival(person)
    follow_up.under_observation = _observed_now(person)
    _apply_color(actor=actor, follow_up=follow_up, reason=reason)
    follow_up.save()
    if created:
        audit.record(actor=actor, action=audit.Action.CREATE, obj=follow_up, fields=["risk_color", "reason"])
    return follow_up


@transaction.atomic
def follow_up_refresh(*, actor, person: Person, reason: str) -> FollowUp | None:
    """Recompute a followed person's derived facts (exposure, observation) and colour.

    Called by every service that changes one of those facts: an arrival recorded, a risk area
    changed, an observation started or ended. A person not followed is left alone.
    """
    follow_up = FollowUp.objects.select_for_update().filter(person=person).first()
    if follow_up is None:
        return None
    follow_up.exposed = _exposed_by_arrival(person)
    follow_up.under_observation = _observed_now(person)
    _apply_color(actor=actor, follow_up=follow_up, reason=reason)
    follow_up.save()
    return follow_up


@transaction.atomic
def follow_up_set_facts(*, actor, person: Person, reason: str, **facts: bool) -> FollowUp:
    """Set facts established elsewhere (a verification answer, a screening visit), opening a follow-up if needed."""
    unknown = set(facts) - {"reached", "cooperating", "verified", "left_community"}
    if unknown:
        raise ValueError(f"not settable facts: {sorted(unknown)}")
    follow_up = follow_up_open(actor=actor, person=person, reason=reason)
    for name, value in facts.items():
        setattr(follow_up, name, bool(value))
    if facts.get("reached"):
        follow_up.last_contact_at = timezone.now()
    _apply_color(actor=actor, follow_up=follow_up, reason=reason)
    follow_up.next_visit_on = _next_visit(follow_up.risk_color)
    follow_up.save()
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=follow_up, fields=sorted(facts))
    return follow_up


@transaction.atomic
def follow_up_record_contact(*, actor, follow_up: FollowUp, outcome: str, cooperating: bool | None = None,
                             verified: bool | None = None, left_community: bool | None = None,
                             note: str = "") -> FollowUp:
    """Record a call or visit and what it established; the colour and the next revisit follow."""
    _require_staff(actor)
    ensure_in_scope(actor, follow_up)
    if outcome not in ContactOutcome.values:
        raise DomainError(_("联系结果无效"), code="bad_outcome", fields={"outcome": _("联系结果无效")})
    follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    reached = outcome != ContactOutcome.UNREACHABLE
    FollowUpContact.objects.create(follow_up=follow_up, community_id=follow_up.community_id, outcome=outcome,
                                   note=note[:300], made_by=actor)
    follow_up.reached = follow_up.reached or reached
    changes = {"cooperating": cooperating, "verified": verified, "left_community": left_community}
    for name, value in changes.items():
        if value is not None:
            setattr(follow_up, name, value)
    if reached:
        follow_up.last_contact_at = timezone.now()
    reason = ContactOutcome(outcome).label + (f":{note}" if note else "")
    _apply_color(actor=actor, follow_up=follow_up, reason=str(reason))
    follow_up.next_visit_on = _next_visit(follow_up.risk_color)
    follow_up.save()
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=follow_up,
                 fields=["contact", *sorted(name for name, value in changes.items() if value is not None)])
    return follow_up


@transaction.atomic
def follow_up_override(*, actor, follow_up: FollowUp, color: str, reason: str) -> FollowUp:
    """Set the colour by hand; the facts keep their computed colour beside it. Empty colour lifts the override."""
    _require_staff(actor)
    ensure_in_scope(actor, follow_up)
    if color and color not in Color.values:
        raise DomainError(_("颜色无效"), code="bad_color", fields={"color": _("颜色无效")})
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写调整原因"), code="reason_required", fields={"reason": _("请填写调整原因")})
    follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    follow_up.override_color = color
    follow_up.override_reason = reason[:200] if color else ""
    follow_up.override_by = actor if color else None
    _apply_color(actor=actor, follow_up=follow_up, reason=_("人工调整:%(reason)s") % {"reason": reason})
    follow_up.save()
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=follow_up, fields=["override_color", "override_reason"])
    return follow_up


@transaction.atomic
def follow_up_assign(*, actor, follow_up: FollowUp, responsible) -> FollowUp:
    """Name the staff member responsible for this person (the yellow colour's 专人)."""
    _require_staff(actor)
    ensure_in_scope(actor, follow_up)
    if responsible is not None:
        if not is_staff_member(responsible) or not Person.objects.in_scope(responsible).filter(pk=follow_up.person_id).exists():
            raise DomainError(_("责任人必须是负责该人员所在地的工作人员"), code="bad_responsible",
                              fields={"responsible": _("责任人必须是负责该人员所在地的工作人员")})
    follow_up.responsible = responsible
    follow_up.save(update_fields=["responsible", "updated_at"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=follow_up, fields=["responsible"])
    return follow_up


@transaction.atomic
def follow_up_close(*, actor, follow_up: FollowUp, reason: str) -> FollowUp:
    """Stop following a person (observation over, left for good); the history stays."""
    _require_staff(actor)
    ensure_in_scope(actor, follow_up)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写结束原因"), code="reason_required", fields={"reason": _("请填写结束原因")})
    follow_up.closed_at = timezone.now()
    follow_up.reason = reason[:200]
    follow_up.save(update_fields=["closed_at", "reason", "updated_at"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=follow_up, fields=["closed_at"])
    return follow_up


# Risk areas and arrivals


# Verification lists


# Screening rounds

ROUND_MANAGER_ROLES = frozenset({Role.STREET_ADMIN, Role.COMMUNITY_STAFF})
VISIT_REPEAT_SECONDS = 60
NEW_PERSON_FIELDS = ("name", "id_type", "id_number", "phone", "sex", "relationship", "residency", "notes")
FOLLOWED_ANOMALIES = frozenset({Anomaly.UNREGISTERED_ARRIVAL, Anomaly.RISK_AREA_ARRIVAL})
FOUND_BY_SCREENING = "入户排查发现"


def _require_round_manager(actor, community) -> None:
    """Starting or closing a round is for whoever runs the whole community: its staff, the street, the administrator."""
    if not (actor.is_superuser or actor.role in ROUND_MANAGER_ROLES):
        raise NotAllowed(_("只有社区工作人员或街道可以发起和结束排查轮次"))
    ensure_in_scope(actor, community)
    communities = community_ids_in_scope(actor)
    if communities is not None and community.pk not in communities:
        raise NotAllowed(_("只有负责整个社区的工作人员可以发起和结束排查轮次"))


@transaction.atomic
def screening_round_start(*, actor, community: Community, name: str = "", grids=()) -> ScreeningRound:
    """Start round N of a community, for all its households or those of the grids given."""
    _require_round_manager(actor, community)
    grids = list(grids)
    if any(grid.community_id != community.pk for grid in grids):
        message = _("所选网格不属于该社区")
        raise DomainError(message, code="bad_grid", fields={"grids": message})
    Community.objects.select_for_update().filter(pk=community.pk).first()
    number = (ScreeningRound.objects.filter(community=community).aggregate(n=Max("number"))["n"] or 0) + 1
    name = normalize_text(name)[:100] or _("第%(n)d轮排查") % {"n": number}
    round = ScreeningRound.objects.create(community=community, name=name, number=number, started_at=timezone.now(),
                                          started_by=actor if actor.pk else None)
    round.grids.set(grids)
    audit.record(actor=actor, action=audit.Action.CREATE, obj=round, fields=["name", "number", "grids"])
    return round


@transaction.atomic
def screening_round_close(*, actor, round: ScreeningRound) -> ScreeningRound:
    _require_round_manager(actor, round.community)
    round = ScreeningRound.objects.select_for_update().get(pk=round.pk)
    if round.closed_at is not None:
        raise Conflict(_("该排查轮次已经结束"), code="round_closed")
    round.closed_at = timezone.now()
    round.save(update_fields=["closed_at", "updated_at"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=round, fields=["closed_at"])
    return round


def _household_in_round(round: ScreeningRound, household: Household) -> bool:
    if household.community_id != round.community_id:
        return False
    grid_ids = set(round.grids.values_list("id", flat=True))
    return not grid_ids or household.grid_id in grid_ids


def _clean_visit(*, method, people_present, anomalies, note) -> tuple[list[str], str]:
    """Check the visit's own values; return the anomalies (deduplicated, in list order) and the note."""
    if method not in VisitMethod.values:
        message = _("排查方式无效,应为入户、电话或未联系上")
        raise DomainError(message, code="bad_method", fields={"method": message})
    if people_present is not None and not (isinstance(people_present, int) and 0 <= people_present <= 99):
        message = _("在户人数应为0到99之间的整数")
        raise DomainError(message, code="bad_people_present", fields={"people_present": message})
    unknown = [str(code) for code in anomalies if code not in Anomaly.values]
    if unknown:
        message = _("未知的异常情况:%(codes)s") % {"codes": "、".join(unknown)}
        raise DomainError(message, code="bad_anomaly", fields={"anomalies": message})
    return [code for code in Anomaly.values if code in anomalies], normalize_text(note)[:300]


def _person_values(entry: dict) -> dict:
    return {field: entry[field] for field in NEW_PERSON_FIELDS if entry.get(field) not in (None, "")}


def _row_error(index: int, err: DomainError) -> DomainError:
    message = _("新发现人员第%(n)d行:%(message)s") % {"n": index, "message": err.message}
    return DomainError(message, code=err.code, fields={"new_persons": message})


def _clean_new_persons(new_persons) -> list[dict]:
    """Validate every new person before anything is written, so a bad row names itself and stores nothing."""
    values = [_person_values(entry) for entry in new_persons]
    for index, entry in enumerate(values, start=1):
        try:
            clean_person_data(**{"name": "", "id_number": "", **entry})
        except DomainError as err:
            raise _row_error(index, err) from None
    return values


def _add_new_persons(*, actor, household: Household, values: list[dict], followed: bool) -> list[Person]:
    persons = []
    for index, entry in enumerate(values, start=1):
        try:
            person = person_create(actor=actor, community=household.community, household=household, **entry)
        except DomainError as err:
            raise _row_error(index, err) from None
        if followed:
            follow_up_open(actor=actor, person=person, reason=FOUND_BY_SCREENING)
        persons.append(person)
    return persons


def _repeated_visit(*, actor, round, household, method, when) -> HouseholdVisit | None:
    """The same visit sent again (a double tap, a retry) within a minute by the same person."""
    window = datetime.timedelta(seconds=VISIT_REPEAT_SECONDS)
    return (HouseholdVisit.objects.filter(round=round, household=household, method=method, visited_by=actor,
                                          visited_at__gte=when - window, visited_at__lte=when + window)
            .order_by("-visited_at", "-id").first())


@transaction.atomic
def household_visit_record(*, actor, round: ScreeningRound, household: Household, method: str,
                           people_present: int | None = None, anomalies=(), note: str = "", new_persons=(),
                           visited_at: datetime.datetime | None = None) -> HouseholdVisit:
    """Record one attempt to reach a household; people found who are not registered are added to it.

    The latest attempt gives the household's status in the round; a not-reached household is
    visited again in the next pass, so the pass number counts the earlier not-reached attempts.
    """
    if not is_staff_member(actor):
        raise NotAllowed(_("只有工作人员可以登记入户排查"))
    ensure_in_scope(actor, round)
    ensure_in_scope(actor, household)
    if not _household_in_round(round, household):
        raise Http404
    anomalies, note = _clean_visit(method=method, people_present=people_present, anomalies=list(anomalies), note=note)
    now = timezone.now()
    when = visited_at or now
    if when > now + datetime.timedelta(minutes=5):
        message = _("排查时间不能晚于现在")
        raise DomainError(message, code="future_visit", fields={"visited_at": message})
    values = _clean_new_persons(new_persons)
    Household.objects.select_for_update().filter(pk=household.pk).first()
    round = ScreeningRound.objects.get(pk=round.pk)
    if round.closed_at is not None:
        raise Conflict(_("该排查轮次已经结束,不能再登记"), code="round_closed")
    repeated = _repeated_visit(actor=actor, round=round, household=household, method=method, when=when)
    if repeated is not None:
        return repeated
    earlier_misses = HouseholdVisit.objects.filter(round=round, household=household,
                                                   method=VisitMethod.NOT_REACHED).count()
    visit = HouseholdVisit.objects.create(
        round=round, household=household, community_id=household.community_id, grid_id=household.grid_id,
        method=method, pass_number=earlier_misses + 1, people_present=people_present, anomalies=anomalies,
        note=note, visited_by=actor if actor.pk else None, visited_at=when)
    _add_new_persons(actor=actor, household=household, values=values,
                     followed=bool(FOLLOWED_ANOMALIES.intersection(anomalies)))
    audit.record(actor=actor, action=audit.Action.CREATE, obj=visit, object_repr=f"{round.name} {household}",
                 fields=["method", "people_present", "anomalies", "note", *(["new_persons"] if values else [])])
    return visit
