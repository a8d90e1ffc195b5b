"""Follow-ups and the four colours: the facts about a followed person, their colour, calls and visits, overrides.

The colour is `screening.colors.risk_color` of the facts, stored as an index and recomputed by
every service here whenever a fact changes; a manual override carries a reason and an author.
"""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import audit
from fangkong.core.errors import DomainError
from fangkong.core.roles import is_staff_member
from fangkong.core.scope import ensure_in_scope
from fangkong.people.models import Person
from fangkong.screening.colors import REVISIT_DAYS, ColorFacts, risk_color
from fangkong.screening.models import (
    Arrival,
    Color,
    ColorChange,
    ContactOutcome,
    FollowUp,
    FollowUpContact,
    ObservedPerson,
)
from fangkong.screening.permissions import require_follow_up_staff

_FACT_FIELDS = ("reached", "cooperating", "verified", "exposed", "under_observation", "left_community")


def _facts_of(follow_up: FollowUp) -> ColorFacts:
    return ColorFacts(**{name: getattr(follow_up, name) for name in _FACT_FIELDS})


def _observed_now(person: Person) -> bool:
    """Whether the person is under observation, as health last reported (see follow_up_set_observation)."""
    return ObservedPerson.objects.filter(person=person).exists()


def _exposed_by_arrival(person: Person) -> bool:
    return Arrival.objects.filter(person=person, exposed=True).exists()


def _apply_color(*, actor, follow_up: FollowUp, reason: str) -> None:
    """Store the colour the facts (or the override) give, and log a change when it changes."""
    follow_up.computed_color = risk_color(_facts_of(follow_up))
    new_color = follow_up.override_color or follow_up.computed_color
    previous = follow_up.risk_color
    follow_up.risk_color = new_color
    if previous != new_color:
        if follow_up.pk is None:
            follow_up.save()
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
    changed, an observation reported started or ended. A person not followed is left alone.
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
def follow_up_set_observation(*, actor, person: Person, under_observation: bool, reason: str) -> FollowUp | None:
    """Health reports whether the person is under observation now; their follow-up, if any, is recoloured.

    Called by health whenever an observation starts, moves or ends. The fact is kept for people
    not followed too, so a follow-up opened later (an arrival, a list, a visit) starts with it.
    """
    if under_observation:
        ObservedPerson.objects.get_or_create(person=person, defaults={"community_id": person.community_id})
    else:
        ObservedPerson.objects.filter(person=person).delete()
    return follow_up_refresh(actor=actor, person=person, reason=reason)


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
    require_follow_up_staff(actor)
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
    require_follow_up_staff(actor)
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
    require_follow_up_staff(actor)
    ensure_in_scope(actor, follow_up)
    if responsible is not None:
        if not (is_staff_member(responsible)
                and Person.objects.in_scope(responsible).filter(pk=follow_up.person_id).exists()):
            raise DomainError(_("责任人必须是负责该人员所在地的工作人员"), code="bad_responsible",
                              fields={"responsible": _("责任人必须是负责该人员所在地的工作人员")})
    follow_up.responsible = responsible
    follow_up.save(update_fields=["responsible", "updated_at"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=follow_up, fields=["responsible"])
    return follow_up


@transaction.atomic
def follow_up_close(*, actor, follow_up: FollowUp, reason: str) -> FollowUp:
    """Stop following a person (observation over, left for good); the history stays."""
    require_follow_up_staff(actor)
    ensure_in_scope(actor, follow_up)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写结束原因"), code="reason_required", fields={"reason": _("请填写结束原因")})
    follow_up.closed_at = timezone.now()
    follow_up.reason = reason[:200]
    follow_up.save(update_fields=["closed_at", "reason", "updated_at"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=follow_up, fields=["closed_at"])
    return follow_up
