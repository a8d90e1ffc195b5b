"""The observation's life: start, extend, release or end early, transfer to central quarantine, the team.

Each change is an ObservationChange and an AuditEvent, and then the person's follow-up colour is
recomputed (blue needs an active observation).
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import audit
from fangkong.core.errors import Conflict, DomainError
from fangkong.core.idnumbers import normalize_phone, normalize_text
from fangkong.core.roles import is_staff_member
from fangkong.core.scope import ensure_in_scope
from fangkong.health.models import Observation, ObservationChange, ObservationKind, ObservationReason
from fangkong.health.permissions import require_observation_staff
from fangkong.health.queries import observation_days
from fangkong.people.models import Person
from fangkong.places.models import Household
from fangkong.screening.services import follow_up_set_observation

MIN_DAYS, MAX_DAYS = 1, 60
TEAM_ROLES = ("cadre", "medic", "police", "volunteer")


@dataclass
class Team:
    """The 五个一 around one observed person: four staff members and a family contact."""

    cadre: object = None
    medic: object = None
    police: object = None
    volunteer: object = None
    family_contact_name: str = ""
    family_contact_phone: str = ""


def move_planned_end(*, actor, observation: Observation, planned_end_on: datetime.date, note: str) -> None:
    """Move an observation's planned end and log it as an extension (asked for, or by a policy change)."""
    observation.planned_end_on = planned_end_on
    observation.save(update_fields=["planned_end_on", "updated_at"])
    _log_change(actor=actor, observation=observation, kind=ObservationChange.Kind.EXTEND, note=note,
                planned_end_on=planned_end_on)
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=observation, fields=["planned_end_on"])


def _log_change(*, actor, observation: Observation, kind: str, note: str = "", planned_end_on=None) -> None:
    ObservationChange.objects.create(observation=observation, community_id=observation.community_id, kind=kind,
                                     note=note[:200], planned_end_on=planned_end_on or observation.planned_end_on,
                                     changed_by=actor if actor is not None and actor.pk else None)


def _refresh_color(*, actor, observation: Observation, reason: str) -> None:
    """Tell screening whether the person is under observation now; their follow-up colour follows."""
    observed = Observation.objects.active().filter(person_id=observation.person_id).exists()
    follow_up_set_observation(actor=actor, person=observation.person, under_observation=observed, reason=reason)


def _clean_team(team: Team | dict | None, person: Person) -> Team:
    """Team members must be staff whose scope covers the person; the family phone a mobile number."""
    if team is None:
        return Team()
    if isinstance(team, dict):
        team = Team(**team)
    for role in TEAM_ROLES:
        member = getattr(team, role)
        if member is None:
            continue
        if not is_staff_member(member) or not Person.objects.in_scope(member).filter(pk=person.pk).exists():
            message = _("%(user)s 不是负责该人员的工作人员") % {"user": member}
            raise DomainError(message, fields={role: message})
    team.family_contact_name = normalize_text(team.family_contact_name)[:50]
    if team.family_contact_phone:
        try:
            team.family_contact_phone = normalize_phone(team.family_contact_phone)
        except ValidationError as err:
            raise DomainError(err.messages[0], fields={"family_contact_phone": err.messages[0]}) from None
    return team


def _apply_team(observation: Observation, team: Team) -> None:
    for name in (*TEAM_ROLES, "family_contact_name", "family_contact_phone"):
        setattr(observation, name, getattr(team, name))


def _already_observed(person: Person) -> Conflict:
    existing = Observation.objects.active().filter(person=person).first()
    if existing is None:
        return Conflict(_("该人员已在隔离观察中"), code="already_observed")
    message = _("该人员已在隔离观察中:%(kind)s,%(start)s 起,计划 %(end)s 解除(编号 %(id)s)") % {
        "kind": existing.get_kind_display(), "start": existing.starts_on, "end": existing.planned_end_on,
        "id": existing.pk}
    return Conflict(message, code="already_observed", fields={"person": message})


def _check_dates(starts_on: datetime.date, planned_end_on: datetime.date | None) -> None:
    if starts_on > timezone.localdate() + datetime.timedelta(days=1):
        message = _("开始日期不能晚于明天")
        raise DomainError(message, fields={"starts_on": message})
    if planned_end_on is not None and planned_end_on < starts_on:
        message = _("计划解除日期不能早于开始日期")
        raise DomainError(message, fields={"planned_end_on": message})


def _check_choices(kind: str, reason: str) -> None:
    if kind not in ObservationKind.values:
        raise DomainError(_("隔离类型不正确"), fields={"kind": _("取值不正确")})
    if reason not in ObservationReason.values:
        raise DomainError(_("隔离原因不正确"), fields={"reason": _("取值不正确")})


def observation_start(*, actor, person: Person, kind: str, reason: str, starts_on: datetime.date | None = None,
                      planned_end_on: datetime.date | None = None, household: Household | None = None,
                      arrival=None, reason_note: str = "", team: Team | dict | None = None,
                      site: str = "") -> Observation:
    """Start observing a person; only one observation per person is active at a time."""
    require_observation_staff(actor)
    ensure_in_scope(actor, person)
    _check_choices(kind, reason)
    starts_on = starts_on or timezone.localdate()
    _check_dates(starts_on, planned_end_on)
    household = household or person.household
    if household is not None:
        ensure_in_scope(actor, household)
    team = _clean_team(team, person)
    try:
        with transaction.atomic():
            observation = _create_observation(
                actor=actor, person=person, kind=kind, reason=reason, starts_on=starts_on,
                planned_end_on=planned_end_on, household=household, arrival=arrival,
                reason_note=normalize_text(reason_note)[:200], team=team, site=normalize_text(site)[:100])
    except IntegrityError:
        raise _already_observed(person) from None
    return observation


def _create_observation(*, actor, person: Person, kind: str, reason: str, starts_on, planned_end_on, household,
                        arrival, reason_note: str, team: Team, site: str) -> Observation:
    Person.objects.select_for_update().filter(pk=person.pk).first()
    if Observation.objects.active().filter(person=person).exists():
        raise _already_observed(person)
    street = person.community.street
    if planned_end_on is None:
        planned_end_on = starts_on + datetime.timedelta(days=observation_days(street, kind, starts_on))
    observation = Observation(community_id=person.community_id, person=person, household=household, kind=kind,
                              reason=reason, reason_note=reason_note, arrival=arrival, starts_on=starts_on,
                              planned_end_on=planned_end_on, site=site, started_by=actor)
    _apply_team(observation, team)
    observation.save()
    _log_change(actor=actor, observation=observation, kind=ObservationChange.Kind.START, note=reason_note)
    audit.record(actor=actor, action=audit.Action.CREATE, obj=observation,
                 fields=["kind", "reason", "starts_on", "planned_end_on"])
    _refresh_color(actor=actor, observation=observation,
                   reason=_("开始%(kind)s") % {"kind": observation.get_kind_display()})
    return observation


def _locked_active(actor, observation: Observation) -> Observation:
    require_observation_staff(actor)
    ensure_in_scope(actor, observation)
    locked = Observation.objects.select_for_update().select_related("person").get(pk=observation.pk)
    if locked.status != Observation.Status.ACTIVE:
        raise Conflict(_("该隔离观察已结束(%(status)s)") % {"status": locked.get_status_display()}, code="not_active")
    return locked


def required_reason(reason: str) -> str:
    """The reason a step needs (an extension, an early end, a contact ruled out, a transfer called off)."""
    reason = normalize_text(reason)
    if not reason:
        message = _("请填写原因")
        raise DomainError(message, fields={"reason": message})
    return reason[:200]


@transaction.atomic
def observation_extend(*, actor, observation: Observation, reason: str, days: int | None = None,
                       until: datetime.date | None = None) -> Observation:
    """Move the planned end later, by `days` or to `until`."""
    observation = _locked_active(actor, observation)
    reason = required_reason(reason)
    if days is not None:
        if not MIN_DAYS <= int(days) <= MAX_DAYS:
            message = _("延长天数应在 %(a)s–%(b)s 天之间") % {"a": MIN_DAYS, "b": MAX_DAYS}
            raise DomainError(message, fields={"days": message})
        until = observation.planned_end_on + datetime.timedelta(days=int(days))
    if until is None or until <= observation.planned_end_on:
        message = _("新的解除日期应晚于 %(d)s") % {"d": observation.planned_end_on}
        raise DomainError(message, fields={"until": message})
    move_planned_end(actor=actor, observation=observation, planned_end_on=until, note=reason)
    _refresh_color(actor=actor, observation=observation, reason=_("延长隔离观察"))
    return observation


def _close(*, actor, observation: Observation, status: str, on: datetime.date, reason: str, change: str) -> None:
    observation.status = status
    observation.ended_on = on
    observation.end_reason = reason
    observation.save(update_fields=["status", "ended_on", "end_reason", "updated_at"])
    _log_change(actor=actor, observation=observation, kind=change, note=reason)
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=observation, fields=["status", "ended_on", "end_reason"])


@transaction.atomic
def observation_release(*, actor, observation: Observation, on: datetime.date | None = None, early: bool = False,
                        reason: str = "") -> Observation:
    """Release at or after the planned end; before it only with `early=True` and a reason (then: ended early)."""
    observation = _locked_active(actor, observation)
    on = on or timezone.localdate()
    if on < observation.starts_on:
        message = _("解除日期不能早于开始日期 %(d)s") % {"d": observation.starts_on}
        raise DomainError(message, fields={"on": message})
    if on > timezone.localdate():
        message = _("解除日期不能晚于今天")
        raise DomainError(message, fields={"on": message})
    if on < observation.planned_end_on and not early:
        message = _("未到计划解除日期 %(d)s;如需提前结束,请填写原因") % {"d": observation.planned_end_on}
        raise DomainError(message, code="too_early", fields={"on": message})
    if on < observation.planned_end_on:
        _close(actor=actor, observation=observation, status=Observation.Status.ENDED_EARLY, on=on,
               reason=required_reason(reason), change=ObservationChange.Kind.END_EARLY)
    else:
        _close(actor=actor, observation=observation, status=Observation.Status.RELEASED, on=on,
               reason=normalize_text(reason)[:200] or _("期满解除"), change=ObservationChange.Kind.RELEASE)
    _refresh_color(actor=actor, observation=observation, reason=observation.get_status_display())
    return observation


def observation_end_early(*, actor, observation: Observation, reason: str) -> Observation:
    return observation_release(actor=actor, observation=observation, early=True, reason=reason)


@transaction.atomic
def observation_transfer(*, actor, observation: Observation, site: str) -> Observation:
    """Close this observation as transferred and start central quarantine at `site` with the remaining days."""
    observation = _locked_active(actor, observation)
    site = normalize_text(site)[:100]
    if not site:
        message = _("请填写集中隔离点")
        raise DomainError(message, fields={"site": message})
    today = timezone.localdate()
    note = _("转至集中隔离点:%(site)s") % {"site": site}
    _close(actor=actor, observation=observation, status=Observation.Status.TRANSFERRED, on=today, reason=note,
           change=ObservationChange.Kind.TRANSFER)
    team = Team(**{name: getattr(observation, name) for name in (*TEAM_ROLES, "family_contact_name",
                                                                  "family_contact_phone")})
    central = _create_observation(
        actor=actor, person=observation.person, kind=ObservationKind.CENTRAL_QUARANTINE, reason=observation.reason,
        starts_on=today, planned_end_on=max(today, observation.planned_end_on), household=observation.household,
        arrival=observation.arrival, reason_note=observation.reason_note, team=team, site=site)
    observation.transferred_to = central
    observation.save(update_fields=["transferred_to", "updated_at"])
    return central


@transaction.atomic
def observation_team_set(*, actor, observation: Observation, team: Team | dict) -> Observation:
    observation = _locked_active(actor, observation)
    team = _clean_team(team, observation.person)
    _apply_team(observation, team)
    observation.save()
    _log_change(actor=actor, observation=observation, kind=ObservationChange.Kind.TEAM)
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=observation,
                 fields=[*TEAM_ROLES, "family_contact_name", "family_contact_phone"])
    return observation
