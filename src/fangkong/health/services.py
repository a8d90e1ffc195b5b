"""Every write about observation and health checks: policies, the observation's life, checks and alerts.

Each change of an observation is an ObservationChange and an AuditEvent, and then the person's
follow-up colour is recomputed (blue needs an active observation).
"""

import datetime
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.models import Role
from fangkong.core import audit
from fangkong.core.errors import Conflict, DomainError, NotAllowed, require_choice
from fangkong.core.idnumbers import normalize_phone, normalize_text
from fangkong.core.roles import is_staff_member
from fangkong.core.scope import ensure_in_scope
from fangkong.health.models import (
    Case,
    CaseEvent,
    Contact,
    ContactKind,
    ContactPolicy,
    Destination,
    HealthAlert,
    HealthCheck,
    Observation,
    ObservationChange,
    ObservationKind,
    ObservationPolicy,
    ObservationReason,
    Reporter,
    Symptom,
    Transfer,
    TransferPassenger,
    check_window,
)
from fangkong.people.models import Person
from fangkong.people.permissions import may_edit_registry
from fangkong.people.services import clean_person_data, person_register
from fangkong.places.models import Household, Street
from fangkong.screening.services import follow_up_refresh
from fangkong.zones import services as zone_services
from fangkong.zones.models import Level
from fangkong.zones.places import place_fields

DEFAULT_DAYS = {ObservationKind.HOME_QUARANTINE: 14, ObservationKind.CENTRAL_QUARANTINE: 14,
                ObservationKind.HOME_MONITORING: 7}
MIN_DAYS, MAX_DAYS = 1, 60
MIN_TEMPERATURE, MAX_TEMPERATURE = Decimal("34.0"), Decimal("42.0")
FEVER_FROM = Decimal("37.3")
STAFF_REPORTERS = (Reporter.STAFF_DOOR, Reporter.STAFF_PHONE)
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


# Policies

def observation_days(street: Street, kind: str, on: datetime.date) -> int:
    """The days an observation of `kind` starting `on` lasts: the street's policy then in effect, else the default."""
    policy = (ObservationPolicy.objects.filter(street=street, kind=kind, effective_from__lte=on)
              .order_by("-effective_from").first())
    return policy.days if policy else DEFAULT_DAYS[ObservationKind(kind)]


def _may_set_policy(actor, street: Street) -> bool:
    return actor.is_superuser or (actor.role == Role.STREET_ADMIN and actor.scope_street_id == street.pk)


@transaction.atomic
def observation_policy_set(*, actor, street: Street, kind: str, days: int, effective_from: datetime.date) -> ObservationPolicy:
    """Set the days of a kind from a date on, and move the planned end of active observations that started since.

    Each affected observation moves by the difference between the new and the old policy days, so a
    manual extension is kept.
    """
    if not actor.is_authenticated or not _may_set_policy(actor, street):
        raise NotAllowed(_("只有街道领导/专班可以设置隔离政策"))
    if kind not in ObservationKind.values:
        raise DomainError(_("隔离类型不正确"), fields={"kind": _("取值不正确")})
    if not MIN_DAYS <= int(days) <= MAX_DAYS:
        message = _("天数应在 %(a)s–%(b)s 天之间") % {"a": MIN_DAYS, "b": MAX_DAYS}
        raise DomainError(message, fields={"days": message})
    affected = list(Observation.objects.active().select_for_update()
                    .filter(community__street=street, kind=kind, starts_on__gte=effective_from))
    old_days = {obs.pk: observation_days(street, kind, obs.starts_on) for obs in affected}
    policy, _created = ObservationPolicy.objects.update_or_create(
        street=street, kind=kind, effective_from=effective_from, defaults={"days": int(days), "created_by": actor})
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=policy, fields=["days", "effective_from"],
                 community_id=None)
    for observation in affected:
        shift = observation_days(street, kind, observation.starts_on) - old_days[observation.pk]
        if shift:
            _move_end(actor=actor, observation=observation,
                      planned_end_on=max(observation.starts_on, observation.planned_end_on + datetime.timedelta(days=shift)),
                      note=_("政策调整"))
    return policy


def _move_end(*, actor, observation: Observation, planned_end_on: datetime.date, note: str) -> None:
    observation.planned_end_on = planned_end_on
    observation.save(update_fields=["planned_end_on", "updated_at"])
    _log_change(actor=actor, observation=observation, kind=ObservationChange.Kind.EXTEND, note=note,
                planned_end_on=planned_end_on)
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=observation, fields=["planned_end_on"])


# The observation's life

def _require_staff(actor) -> None:
    if not is_staff_member(actor):
        raise NotAllowed(_("只有工作人员可以管理隔离观察"))


def _log_change(*, actor, observation: Observation, kind: str, note: str = "", planned_end_on=None) -> None:
    ObservationChange.objects.create(observation=observation, community_id=observation.community_id, kind=kind,
                                     note=note[:200], planned_end_on=planned_end_on or observation.planned_end_on,
                                     changed_by=actor if actor is not None and actor.pk else None)


def _refresh_color(*, actor, observation: Observation, reason: str) -> None:
    follow_up_refresh(actor=actor, person=observation.person, reason=reason)


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
    _require_staff(actor)
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
    _refresh_color(actor=actor, observation=observation, reason=_("开始%(kind)s") % {"kind": observation.get_kind_display()})
    return observation


def _locked_active(actor, observation: Observation) -> Observation:
    _require_staff(actor)
    ensure_in_scope(actor, observation)
    locked = Observation.objects.select_for_update().select_related("person").get(pk=observation.pk)
    if locked.status != Observation.Status.ACTIVE:
        raise Conflict(_("该隔离观察已结束(%(status)s)") % {"status": locked.get_status_display()}, code="not_active")
    return locked


def _required_reason(reason: str) -> str:
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
    reason = _required_reason(reason)
    if days is not None:
        if not MIN_DAYS <= int(days) <= MAX_DAYS:
            message = _("延长天数应在 %(a)s–%(b)s 天之间") % {"a": MIN_DAYS, "b": MAX_DAYS}
            raise DomainError(message, fields={"days": message})
        until = observation.planned_end_on + datetime.timedelta(days=int(days))
    if until is None or until <= observation.planned_end_on:
        message = _("新的解除日期应晚于 %(d)s") % {"d": observation.planned_end_on}
        raise DomainError(message, fields={"until": message})
    _move_end(actor=actor, observation=observation, planned_end_on=until, note=reason)
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
               reason=_required_reason(reason), change=ObservationChange.Kind.END_EARLY)
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


# Health checks and alerts

def _clean_temperature(value) -> Decimal:
    try:
        temperature = Decimal(str(normalize_text(str(value)))).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        message = _("体温应为数字,如 36.5")
        raise DomainError(message, fields={"temperature": message}) from None
    if not MIN_TEMPERATURE <= temperature <= MAX_TEMPERATURE:
        message = _("体温 %(t)s℃ 不在合理范围(34–42℃)") % {"t": temperature}
        raise DomainError(message, fields={"temperature": message})
    return temperature


def _clean_symptoms(symptoms) -> list[str]:
    cleaned = []
    for symptom in symptoms or ():
        if symptom not in Symptom.values:
            message = _("未知症状:%(s)s") % {"s": symptom}
            raise DomainError(message, fields={"symptoms": message})
        if symptom not in cleaned:
            cleaned.append(symptom)
    return cleaned


def _clean_reporter(actor, reporter: str) -> str:
    """Residents report for themselves and their household; staff record a door visit or a phone call."""
    if actor.role == Role.RESIDENT and not actor.is_superuser:
        return Reporter.SELF
    if reporter not in STAFF_REPORTERS:
        message = _("工作人员登记时请选择上门或电话")
        raise DomainError(message, fields={"reporter": message})
    return reporter


def _observation_to_check(actor, observation: Observation | None, person: Person | None) -> Observation:
    if observation is None:
        if person is None:
            raise DomainError(_("请指定人员"), fields={"person": _("必填")})
        ensure_in_scope(actor, person)
        observation = Observation.objects.active().filter(person=person).first()
        if observation is None:
            message = _("该人员当前没有进行中的隔离观察")
            raise DomainError(message, code="not_active", fields={"person": message})
    observation = get_object_or_404(Observation.objects.in_scope(actor), pk=observation.pk)
    if observation.status != Observation.Status.ACTIVE:
        message = _("该隔离观察已结束,不再接收体温记录")
        raise DomainError(message, code="not_active", fields={"observation": message})
    return observation


def _check_taken_at(taken_at: datetime.datetime | None, observation: Observation) -> datetime.datetime:
    now = timezone.now()
    taken_at = taken_at or now
    if taken_at > now + datetime.timedelta(minutes=10):
        message = _("测量时间不能晚于现在")
        raise DomainError(message, fields={"taken_at": message})
    if timezone.localdate(taken_at) < observation.starts_on:
        message = _("测量时间不能早于隔离开始日期 %(d)s") % {"d": observation.starts_on}
        raise DomainError(message, fields={"taken_at": message})
    return taken_at


def alert_reason(temperature: Decimal, symptoms: list[str]) -> str:
    """'体温 37.8℃,咳嗽': what made a check abnormal, as the team reads it."""
    labels = [str(Symptom(symptom).label) for symptom in symptoms]
    return ",".join([_("体温 %(t)s℃") % {"t": temperature}, *labels])[:200]


def health_check_record(*, actor, temperature, reporter: str = Reporter.SELF, observation: Observation | None = None,
                        person: Person | None = None, symptoms=(), taken_at: datetime.datetime | None = None,
                        client_id: uuid.UUID | str | None = None) -> HealthCheck:
    """Record one check of an observed person; the same client_id twice stores once and returns the first."""
    if not actor.is_authenticated:
        raise NotAllowed(_("请先登录"))
    if client_id:
        client_id = _clean_client_id(client_id)
        existing = HealthCheck.objects.filter(client_id=client_id).first()
        if existing is not None:
            ensure_in_scope(actor, existing)
            return existing
    observation = _observation_to_check(actor, observation, person)
    values = {"temperature": _clean_temperature(temperature), "symptoms": _clean_symptoms(symptoms),
              "reporter": _clean_reporter(actor, reporter), "taken_at": _check_taken_at(taken_at, observation)}
    try:
        with transaction.atomic():
            return _store_check(actor=actor, observation=observation, client_id=client_id or None, **values)
    except IntegrityError:
        existing = HealthCheck.objects.filter(client_id=client_id).first() if client_id else None
        if existing is None:
            raise
        return existing


def _clean_client_id(client_id) -> uuid.UUID:
    try:
        return client_id if isinstance(client_id, uuid.UUID) else uuid.UUID(str(client_id))
    except ValueError:
        message = _("client_id 应为 UUID")
        raise DomainError(message, fields={"client_id": message}) from None


def _store_check(*, actor, observation: Observation, temperature: Decimal, symptoms: list[str], reporter: str,
                 taken_at: datetime.datetime, client_id) -> HealthCheck:
    abnormal = temperature >= FEVER_FROM or bool(symptoms)
    check = HealthCheck.objects.create(
        observation=observation, person_id=observation.person_id, community_id=observation.community_id,
        household_id=observation.household_id, taken_at=taken_at, day=timezone.localdate(taken_at),
        window=check_window(taken_at), temperature=temperature, symptoms=symptoms, reporter=reporter,
        recorded_by=actor, client_id=client_id, abnormal=abnormal)
    audit.record(actor=actor, action=audit.Action.CREATE, obj=check, object_repr=str(observation),
                 fields=["temperature", "symptoms"])
    if abnormal:
        HealthAlert.objects.create(check_record=check, observation=observation, community_id=observation.community_id,
                                   household_id=observation.household_id, reason=alert_reason(temperature, symptoms))
    return check


@transaction.atomic
def health_alert_handle(*, actor, alert: HealthAlert, note: str) -> HealthAlert:
    """Record how the team handled an abnormal check (called, visited, sent to the fever clinic...)."""
    _require_staff(actor)
    ensure_in_scope(actor, alert)
    alert = HealthAlert.objects.select_for_update().get(pk=alert.pk)
    if alert.handled_at is not None:
        raise Conflict(_("该提醒已由 %(who)s 处理") % {"who": alert.handled_by or "-"}, code="already_handled")
    note = normalize_text(note)[:300]
    if not note:
        message = _("请填写处理情况")
        raise DomainError(message, fields={"note": message})
    alert.handled_by = actor
    alert.handled_at = timezone.now()
    alert.handling_note = note
    alert.save(update_fields=["handled_by", "handled_at", "handling_note"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=alert, object_repr=alert.reason, fields=["handling_note"])
    return alert


# ---------------------------------------------------------------------------
# Cases and contacts
# ---------------------------------------------------------------------------

def case_event_add(*, actor, case: Case, kind: str, note: str, contact: Contact | None = None) -> CaseEvent:
    """Add a line to the case's timeline; contacts, transfers and zones call it for their own steps."""
    return CaseEvent.objects.create(case=case, community_id=case.community_id, kind=kind, note=note[:300],
                                    contact=contact, by=actor if actor is not None and actor.pk else None)


# A case moves forward only: found → transferred → in hospital / central quarantine (either way between
# the two, a patient's condition changes) → recovered → closed.
CASE_STATUS_RANK = {Case.Status.FOUND: 0, Case.Status.TRANSFERRED: 1, Case.Status.IN_HOSPITAL: 2,
                    Case.Status.IN_CENTRAL_QUARANTINE: 2, Case.Status.RECOVERED: 3, Case.Status.CLOSED: 4}


def may_record_cases(actor) -> bool:
    """Registry editors and medics record cases, contacts and transfers."""
    return actor.is_authenticated and (may_edit_registry(actor) or actor.role == Role.MEDIC)


def _require_case_editor(actor) -> None:
    if not may_record_cases(actor):
        raise NotAllowed(_("只有社区工作人员、网格员和医护人员可以登记病例和密接"))


def _locked_case(actor, case: Case) -> Case:
    _require_case_editor(actor)
    ensure_in_scope(actor, case)
    return Case.objects.select_for_update().select_related("person").get(pk=case.pk)


def _refuse_if_closed(case: Case, field: str) -> None:
    if case.status == Case.Status.CLOSED:
        raise Conflict(_("该病例已结案,不能再变更"), code="case_closed", fields={field: _("已结案")})


def _check_status_move(case: Case, status: str) -> None:
    require_choice(status, Case.Status, field="status", label=_("病例状态"))
    _refuse_if_closed(case, "status")
    if CASE_STATUS_RANK[Case.Status(status)] < CASE_STATUS_RANK[Case.Status(case.status)]:
        message = _("病例状态不能从“%(old)s”退回到“%(new)s”") % {
            "old": case.get_status_display(), "new": Case.Status(status).label}
        raise Conflict(message, code="status_backwards", fields={"status": message})


@transaction.atomic
def case_status_set(*, actor, case: Case, status: str, location: str = "", note: str = "") -> Case:
    """Move a case forward; the same status again only updates where the person is now.

    Leaving the open statuses (recovered, closed) sets closed_at, so the person may have a new case later.
    """
    case = _locked_case(actor, case)
    _check_status_move(case, status)
    location, note = normalize_text(location)[:100], normalize_text(note)[:200]
    if status == case.status and (not location or location == case.location):
        return case
    old_label = case.get_status_display()
    case.status = status
    case.location = location or case.location
    fields = ["status", "location"]
    if status not in Case.OPEN_STATUSES and case.closed_at is None:
        case.closed_at = timezone.now()
        fields.append("closed_at")
    case.save(update_fields=[*fields, "updated_at"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=case, fields=fields)
    line = _("状态:%(old)s → %(new)s") % {"old": old_label, "new": case.get_status_display()}
    if case.location:
        line += _(",目前在 %(where)s") % {"where": case.location}
    case_event_add(actor=actor, case=case, kind=CaseEvent.Kind.STATUS, note=f"{line}。{note}" if note else line)
    return case


@transaction.atomic
def case_severity_set(*, actor, case: Case, severity: str, note: str = "") -> Case:
    case = _locked_case(actor, case)
    require_choice(severity, Case.Severity, field="severity", label=_("临床分型"))
    _refuse_if_closed(case, "severity")
    if severity == case.severity:
        return case
    old_label = case.get_severity_display()
    case.severity = severity
    case.save(update_fields=["severity", "updated_at"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=case, fields=["severity"])
    line = _("分型:%(old)s → %(new)s") % {"old": old_label, "new": case.get_severity_display()}
    note = normalize_text(note)[:200]
    case_event_add(actor=actor, case=case, kind=CaseEvent.Kind.SEVERITY, note=f"{line}。{note}" if note else line)
    return case


def _check_confirmed_at(confirmed_at) -> None:
    if confirmed_at is None:
        message = _("请填写确诊时间")
        raise DomainError(message, fields={"confirmed_at": message})
    if confirmed_at > timezone.now() + datetime.timedelta(minutes=5):
        message = _("确诊时间不能晚于现在")
        raise DomainError(message, fields={"confirmed_at": message})


def _check_case_words(source: str, severity: str) -> None:
    require_choice(source, Case.Source, field="source", label=_("病例来源"))
    require_choice(severity, Case.Severity, field="severity", label=_("临床分型"))


def _already_a_case(person: Person) -> Conflict:
    existing = Case.objects.filter(person=person, status__in=Case.OPEN_STATUSES).first()
    number = existing.pk if existing is not None else "-"
    message = _("%(name)s 已有未结案的病例(编号 %(id)s)") % {"name": person.name, "id": number}
    return Conflict(message, code="case_exists", fields={"person": message})


def _create_case(*, actor, person: Person, **values) -> Case:
    """The case row; a second open case of the person is refused, also when two arrive at once."""
    Person.objects.select_for_update().filter(pk=person.pk).first()
    if Case.objects.filter(person=person, status__in=Case.OPEN_STATUSES).exists():
        raise _already_a_case(person)
    try:
        with transaction.atomic():
            return Case.objects.create(community_id=person.community_id, person=person,
                                       household_id=person.household_id, opened_by=actor, **values)
    except IntegrityError:
        raise _already_a_case(person) from None


def case_open(*, actor, person: Person, source: str, confirmed_at: datetime.datetime,
              severity: str = Case.Severity.ASYMPTOMATIC, location: str = "", source_ref: str = "",
              note: str = "") -> Case:
    """Record a positive and do at once what follows from it, each step a line on the timeline.

    Household members become close contacts (with their observations), the zones around the
    household learn of the positive, the unit is proposed as sealed and the building as controlled,
    and transfers are planned for the case and for the contacts bound for central quarantine.
    """
    _require_case_editor(actor)
    ensure_in_scope(actor, person)
    _check_case_words(source, severity)
    _check_confirmed_at(confirmed_at)
    with transaction.atomic():
        return _open_case(actor=actor, person=person, source=source, confirmed_at=confirmed_at,
                          severity=severity, location=normalize_text(location)[:100],
                          source_ref=normalize_text(source_ref)[:100], note=normalize_text(note)[:300])


def _open_case(*, actor, person: Person, **values) -> Case:
    case = _create_case(actor=actor, person=person, **values)
    audit.record(actor=actor, action=audit.Action.CREATE, obj=case,
                 fields=["source", "confirmed_at", "severity", "location", "source_ref", "note"])
    case_event_add(actor=actor, case=case, kind=CaseEvent.Kind.OPENED,
                   note=_("登记阳性:%(source)s,%(severity)s") % {"source": case.get_source_display(),
                                                                 "severity": case.get_severity_display()})
    contacts = _household_contacts(actor=actor, case=case)
    _propose_zones(actor=actor, case=case)
    _schedule_case_transfer(actor=actor, case=case)
    _schedule_contacts_transfer(actor=actor, case=case, contacts=contacts)
    return case


def _household_contacts(*, actor, case: Case) -> list[Contact]:
    """Every other member of the case's household, except someone who is a case themself."""
    if case.household_id is None:
        return []
    members = (Person.objects.filter(household_id=case.household_id).exclude(pk=case.person_id)
               .exclude(cases__status__in=Case.OPEN_STATUSES).order_by("id"))
    return [contact_add(actor=actor, case=case, kind=ContactKind.CLOSE, source=Contact.Source.HOUSEHOLD,
                        last_exposure_at=case.confirmed_at, person=member) for member in members]


def _step(*, actor, case: Case, kind: str, call, refused: str, done=None):
    """Run one follow-on step in its own savepoint; a refusal becomes a timeline line instead of undoing the case.

    `done` writes the success line; steps whose service writes its own line (transfers) leave it out.
    """
    try:
        with transaction.atomic():
            result = call()
    except DomainError as err:
        case_event_add(actor=actor, case=case, kind=kind, note=f"{refused}:{err.message}")
        return None
    if done is not None:
        case_event_add(actor=actor, case=case, kind=kind, note=done(result))
    return result


def _propose_zones(*, actor, case: Case) -> None:
    zone_services.zone_note_positive(actor=actor, case=case)
    household = case.household
    if household is None:
        return
    for level, place in ((Level.SEALED, household.unit), (Level.CONTROLLED, household.building)):
        if place is None:
            continue
        label = f"{Level(level).label} {place}"
        _step(actor=actor, case=case, kind=CaseEvent.Kind.ZONE,
              call=lambda level=level, place=place: zone_services.zone_propose(
                  actor=actor, level=level, place=place, case=case, reason=_("阳性病例 %(name)s") % {
                      "name": case.person.name}),
              done=lambda zone, label=label, place=place: _zone_line(zone, place, label),
              refused=_("未能提出%(zone)s") % {"zone": label})


def _zone_line(zone, place, label: str) -> str:
    """"提出封控区 3号楼2单元", or the live zone around the place that took the case instead."""
    if zone.place_key == place_fields(place)["place_key"]:
        return _("提出%(zone)s") % {"zone": label}
    return _("%(zone)s 已在%(existing)s内") % {"zone": label, "existing": zone}


TRANSFER_WINDOW = datetime.timedelta(hours=6)
_HOSPITAL_SEVERITIES = (Case.Severity.MODERATE, Case.Severity.SEVERE, Case.Severity.CRITICAL)


def case_destination_kind(severity: str) -> str:
    """Asymptomatic and mild cases go to a makeshift hospital, moderate and worse to a designated hospital."""
    return Destination.Kind.HOSPITAL if severity in _HOSPITAL_SEVERITIES else Destination.Kind.MAKESHIFT_HOSPITAL


def _schedule_case_transfer(*, actor, case: Case) -> None:
    kind = case_destination_kind(case.severity)
    now = timezone.now()
    label = Destination.Kind(kind).label
    _step(actor=actor, case=case, kind=CaseEvent.Kind.TRANSFER,
          call=lambda: transfer_schedule(actor=actor, destination_kind=kind, people=[case.person], case=case,
                                         window_start=now, window_end=now + TRANSFER_WINDOW),
          refused=_("未能安排转运至%(where)s") % {"where": label})


def _schedule_contacts_transfer(*, actor, case: Case, contacts: list[Contact]) -> None:
    """One transfer for the batch of contacts whose observation is central quarantine."""
    batch = [contact for contact in contacts if contact.status == Contact.Status.ACTIVE
             and contact.observation is not None and contact.observation.kind == ObservationKind.CENTRAL_QUARANTINE
             and contact.observation.status == Observation.Status.ACTIVE]
    if not batch:
        return
    now = timezone.now()
    label = Destination.Kind.CENTRAL_QUARANTINE.label
    _step(actor=actor, case=case, kind=CaseEvent.Kind.TRANSFER,
          call=lambda: transfer_schedule(actor=actor, destination_kind=Destination.Kind.CENTRAL_QUARANTINE,
                                         people=[contact.person for contact in batch], case=case, contacts=batch,
                                         window_start=now, window_end=now + TRANSFER_WINDOW),
          refused=_("未能安排密接转运至%(where)s") % {"where": label})


# Contacts

DEFAULT_CONTACT_OBSERVATION = {ContactKind.CLOSE: ObservationKind.CENTRAL_QUARANTINE,
                               ContactKind.SECONDARY: ObservationKind.HOME_QUARANTINE}
_CONTACT_REASON = {ContactKind.CLOSE: ObservationReason.CLOSE_CONTACT,
                   ContactKind.SECONDARY: ObservationReason.SECONDARY_CONTACT}


def contact_observation_kind(street: Street, kind: str) -> str:
    """The observation a contact of `kind` gets in the street: its ContactPolicy, else the default."""
    policy = ContactPolicy.objects.filter(street=street, kind=kind).first()
    return policy.observation_kind if policy else DEFAULT_CONTACT_OBSERVATION[ContactKind(kind)]


@transaction.atomic
def contact_policy_set(*, actor, street: Street, kind: str, observation_kind: str) -> ContactPolicy:
    """Set how contacts of a kind are observed in the street from now on (running observations stay as they are)."""
    if not actor.is_authenticated or not _may_set_policy(actor, street):
        raise NotAllowed(_("只有街道领导/专班可以设置密接管控政策"))
    require_choice(kind, ContactKind, field="kind", label=_("接触类型"))
    require_choice(observation_kind, ObservationKind, field="observation_kind", label=_("管控方式"))
    policy, _created = ContactPolicy.objects.update_or_create(
        street=street, kind=kind, defaults={"observation_kind": observation_kind, "created_by": actor})
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=policy, fields=["observation_kind"], community_id=None)
    return policy


def _check_contact_words(kind: str, source: str) -> None:
    require_choice(kind, ContactKind, field="kind", label=_("接触类型"))
    require_choice(source, Contact.Source, field="source", label=_("接触来源"))


def _check_exposure(case: Case, last_exposure_at) -> None:
    if last_exposure_at is None:
        message = _("请填写末次接触时间")
        raise DomainError(message, fields={"last_exposure_at": message})
    if last_exposure_at > timezone.now() + datetime.timedelta(minutes=5):
        message = _("末次接触时间不能晚于现在")
        raise DomainError(message, fields={"last_exposure_at": message})
    if case.closed_at is not None and last_exposure_at > case.closed_at:
        message = _("末次接触时间不能晚于病例结案时间 %(t)s") % {"t": f"{timezone.localtime(case.closed_at):%Y-%m-%d %H:%M}"}
        raise DomainError(message, fields={"last_exposure_at": message})


def _check_via(case: Case, kind: str, via: Contact | None) -> Contact | None:
    """A secondary contact names an active close contact of the same case; a close contact names none."""
    if kind == ContactKind.CLOSE:
        return None
    if via is None or via.case_id != case.pk or via.kind != ContactKind.CLOSE or via.status != Contact.Status.ACTIVE:
        message = _("次密接须关联本病例的一名密接")
        raise DomainError(message, fields={"via": message})
    return via


def _contact_person(*, actor, case: Case, person: Person | None, person_data: dict | None) -> Person:
    """The person given, or the one registered under the document number, or a new registration.

    A number registered in a community the actor does not see is refused without telling whose it is.
    """
    if person is not None:
        ensure_in_scope(actor, person)
        return person
    if not person_data:
        message = _("请选择人员或填写姓名和证件号码")
        raise DomainError(message, fields={"person": message})
    values = dict(person_data)
    household = values.pop("household", None)
    data = clean_person_data(**values)
    found = Person.objects.filter(id_type=data.id_type, id_number=data.id_number).first()
    if found is not None:
        if not Person.objects.in_scope(actor).filter(pk=found.pk).exists():
            message = _("该证件号码已在您管辖范围以外登记,请联系所在社区添加该密接")
            raise DomainError(message, code="outside_scope", fields={"id_number": message})
        return found
    return person_register(actor=actor, community=case.community, household=household, data=data)


def _contact_observation(*, actor, contact: Contact, case: Case) -> Observation:
    """Start the observation the policy gives, or link the running one and extend it to the new end."""
    street = contact.person.community.street
    kind = contact_observation_kind(street, contact.kind)
    starts_on = timezone.localdate(contact.last_exposure_at)
    ends_on = starts_on + datetime.timedelta(days=observation_days(street, kind, starts_on))
    reason_note = _("病例 %(name)s 的%(kind)s") % {"name": case.person.name, "kind": contact.get_kind_display()}
    running = Observation.objects.active().filter(person=contact.person).first()
    if running is None:
        return observation_start(actor=actor, person=contact.person, kind=kind, reason=_CONTACT_REASON[contact.kind],
                                 starts_on=starts_on, planned_end_on=ends_on, reason_note=reason_note)
    if running.planned_end_on < ends_on:
        return observation_extend(actor=actor, observation=running, until=ends_on, reason=reason_note)
    return running


def _contact_line(contact: Contact) -> str:
    line = f"{contact.get_kind_display()} {contact.person.name}"
    if contact.via_id:
        line += _("(经由 %(name)s)") % {"name": contact.via.person.name}
    return line


@transaction.atomic
def contact_add(*, actor, case: Case, kind: str, source: str, last_exposure_at: datetime.datetime,
                person: Person | None = None, person_data: dict | None = None, via: Contact | None = None,
                note: str = "") -> Contact:
    """Link a person to a case as a close or secondary contact and put them under observation.

    The same person twice on one case is the same Contact (a secondary one becomes close when
    added as close; a removed one comes back).
    """
    _require_case_editor(actor)
    ensure_in_scope(actor, case)
    case = Case.objects.select_for_update().select_related("person").get(pk=case.pk)
    _check_contact_words(kind, source)
    _check_exposure(case, last_exposure_at)
    via = _check_via(case, kind, via)
    person = _contact_person(actor=actor, case=case, person=person, person_data=person_data)
    if person.pk == case.person_id:
        message = _("密接不能是病例本人")
        raise DomainError(message, code="contact_is_case", fields={"person": message})
    existing = Contact.objects.select_for_update().filter(case=case, person=person).first()
    if existing is not None:
        return _contact_again(actor=actor, case=case, contact=existing, kind=kind, via=via,
                              last_exposure_at=last_exposure_at)
    contact = Contact.objects.create(community_id=person.community_id, case=case, person=person, kind=kind,
                                     source=source, last_exposure_at=last_exposure_at, via=via,
                                     note=normalize_text(note)[:200], added_by=actor)
    contact.observation = _contact_observation(actor=actor, contact=contact, case=case)
    contact.save(update_fields=["observation", "updated_at"])
    audit.record(actor=actor, action=audit.Action.CREATE, obj=contact, object_repr=_contact_line(contact),
                 fields=["case", "person", "kind", "source", "last_exposure_at", "via"])
    case_event_add(actor=actor, case=case, kind=CaseEvent.Kind.CONTACT, note=_contact_line(contact), contact=contact)
    return contact


def _contact_again(*, actor, case: Case, contact: Contact, kind: str, via, last_exposure_at) -> Contact:
    """A person added again: upgrade a secondary contact to close, bring back a removed one, keep the latest exposure."""
    fields = []
    if contact.status == Contact.Status.REMOVED:
        contact.status = Contact.Status.ACTIVE
        fields.append("status")
    if kind == ContactKind.CLOSE and contact.kind == ContactKind.SECONDARY:
        contact.kind, contact.via = ContactKind.CLOSE, None
        fields += ["kind", "via"]
    if last_exposure_at > contact.last_exposure_at:
        contact.last_exposure_at = last_exposure_at
        fields.append("last_exposure_at")
    if not fields:
        return contact
    contact.observation = _contact_observation(actor=actor, contact=contact, case=case)
    contact.save(update_fields=[*fields, "observation", "updated_at"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=contact, object_repr=_contact_line(contact),
                 fields=fields)
    case_event_add(actor=actor, case=case, kind=CaseEvent.Kind.CONTACT,
                   note=_("更新 %(line)s") % {"line": _contact_line(contact)}, contact=contact)
    return contact


def _started_by(contact: Contact, observation: Observation | None) -> bool:
    """The observation began with this contact (not one already running that the contact was linked to)."""
    return (observation is not None and observation.status == Observation.Status.ACTIVE
            and observation.reason in _CONTACT_REASON.values() and observation.created_at >= contact.created_at
            and not observation.contacts.filter(status=Contact.Status.ACTIVE).exclude(pk=contact.pk).exists())


@transaction.atomic
def contact_remove(*, actor, contact: Contact, reason: str) -> Contact:
    """Rule a contact out: it stays on the case as removed, and the observation it started ends early."""
    _require_case_editor(actor)
    ensure_in_scope(actor, contact)
    reason = _required_reason(reason)
    contact = Contact.objects.select_for_update(of=("self",)).select_related("person", "case", "observation").get(pk=contact.pk)
    if contact.status == Contact.Status.REMOVED:
        raise Conflict(_("该密接已排除"), code="already_removed")
    contact.status = Contact.Status.REMOVED
    contact.save(update_fields=["status", "updated_at"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=contact, object_repr=_contact_line(contact),
                 fields=["status"])
    if _started_by(contact, contact.observation):
        observation_end_early(actor=actor, observation=contact.observation,
                              reason=_("排除密接:%(reason)s") % {"reason": reason})
    case_event_add(actor=actor, case=contact.case, kind=CaseEvent.Kind.CONTACT,
                   note=_("排除 %(line)s:%(reason)s") % {"line": _contact_line(contact), "reason": reason},
                   contact=contact)
    return contact


# ---------------------------------------------------------------------------
# Transfers
# ---------------------------------------------------------------------------

OPEN_TRANSFER_STATUSES = (Transfer.Status.PLANNED, Transfer.Status.PICKED_UP)
ARRIVAL_CASE_STATUS = {Destination.Kind.HOSPITAL: Case.Status.IN_HOSPITAL,
                       Destination.Kind.MAKESHIFT_HOSPITAL: Case.Status.IN_CENTRAL_QUARANTINE,
                       Destination.Kind.CENTRAL_QUARANTINE: Case.Status.IN_CENTRAL_QUARANTINE}
HOME_OBSERVATION_KINDS = (ObservationKind.HOME_QUARANTINE, ObservationKind.HOME_MONITORING)
CLOCK_SKEW = datetime.timedelta(minutes=10)
"""A crew's phone clock may run a little ahead; a time further in the future is refused."""
MAX_CAPACITY = 100_000


def may_manage_destinations(actor, street: Street) -> bool:
    """Street admins of the street and community staff of one of its communities."""
    if not actor.is_authenticated:
        return False
    if actor.is_superuser:
        return True
    if actor.role == Role.STREET_ADMIN:
        return actor.scope_street_id == street.pk
    return actor.role == Role.COMMUNITY_STAFF and actor.scope_communities.filter(street=street).exists()


def _require_destination_manager(actor, street: Street) -> None:
    if not may_manage_destinations(actor, street):
        raise NotAllowed(_("只有街道领导/专班和本街道社区工作人员可以维护转运目的地"))


def _clean_destination(*, name: str, kind: str, address: str, phone: str, capacity) -> dict:
    name = normalize_text(name)[:100]
    if not name:
        message = _("请填写名称")
        raise DomainError(message, fields={"name": message})
    require_choice(kind, Destination.Kind, field="kind", label=_("目的地类型"))
    if capacity is not None and not 0 <= int(capacity) <= MAX_CAPACITY:
        message = _("床位/房间数应在 0–%(n)s 之间") % {"n": MAX_CAPACITY}
        raise DomainError(message, fields={"capacity": message})
    return {"name": name, "kind": kind, "address": normalize_text(address)[:200], "phone": normalize_text(phone)[:20],
            "capacity": None if capacity is None else int(capacity)}


def _check_destination_name(street: Street, name: str, *, exclude_pk=None) -> None:
    if Destination.objects.filter(street=street, name=name).exclude(pk=exclude_pk).exists():
        message = _("本街道已有名为“%(name)s”的目的地") % {"name": name}
        raise Conflict(message, code="duplicate_name", fields={"name": message})


@transaction.atomic
def destination_create(*, actor, street: Street, name: str, kind: str, address: str = "", phone: str = "",
                       capacity: int | None = None) -> Destination:
    """Register a designated hospital, makeshift hospital or central quarantine site of the street."""
    _require_destination_manager(actor, street)
    values = _clean_destination(name=name, kind=kind, address=address, phone=phone, capacity=capacity)
    _check_destination_name(street, values["name"])
    destination = Destination.objects.create(street=street, **values)
    audit.record(actor=actor, action=audit.Action.CREATE, obj=destination, fields=list(values), community_id=None)
    return destination


@transaction.atomic
def destination_update(*, actor, destination: Destination, name: str, kind: str, address: str = "", phone: str = "",
                       capacity: int | None = None, active: bool = True) -> Destination:
    """Change a destination; its kind stays while transfers are still on their way there."""
    ensure_in_scope(actor, destination)
    destination = Destination.objects.select_for_update().select_related("street").get(pk=destination.pk)
    _require_destination_manager(actor, destination.street)
    values = {**_clean_destination(name=name, kind=kind, address=address, phone=phone, capacity=capacity),
              "active": bool(active)}
    _check_destination_name(destination.street, values["name"], exclude_pk=destination.pk)
    if values["kind"] != destination.kind and destination.transfers.filter(status__in=OPEN_TRANSFER_STATUSES).exists():
        message = _("仍有转运前往该地点,不能更改类型")
        raise Conflict(message, code="transfers_open", fields={"kind": message})
    changed = [field for field, value in values.items() if getattr(destination, field) != value]
    if changed:
        for field in changed:
            setattr(destination, field, values[field])
        destination.save(update_fields=[*changed, "updated_at"])
        audit.record(actor=actor, action=audit.Action.UPDATE, obj=destination, fields=changed, community_id=None)
    return destination


def _moment_label(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%m-%d %H:%M")


def transfer_label(transfer: Transfer) -> str:
    """'转运 #12(待转运,06-01 14:00)': how a transfer is named in messages and timelines."""
    return _("转运 #%(id)s(%(status)s,%(start)s)") % {
        "id": transfer.pk, "status": transfer.get_status_display(), "start": _moment_label(transfer.window_start)}


def _check_window(window_start: datetime.datetime, window_end: datetime.datetime) -> None:
    if window_start is None or window_end is None:
        message = _("请填写计划接人时间")
        raise DomainError(message, fields={"window_start" if window_start is None else "window_end": message})
    if window_end < window_start:
        message = _("计划接人时间止不能早于起")
        raise DomainError(message, fields={"window_end": message})


def _check_destination(actor, destination: Destination | None, kind: str, street_id: int) -> None:
    require_choice(kind, Destination.Kind, field="destination_kind", label=_("去向类型"))
    if destination is None:
        return
    ensure_in_scope(actor, destination)
    if destination.kind != kind or destination.street_id != street_id:
        message = _("%(name)s 不是本街道的%(kind)s") % {"name": destination.name, "kind": Destination.Kind(kind).label}
        raise DomainError(message, fields={"destination": message})
    if not destination.active:
        message = _("%(name)s 已停用") % {"name": destination.name}
        raise DomainError(message, fields={"destination": message})


def _distinct_people(people) -> list[Person]:
    seen, distinct = set(), []
    for person in people or ():
        if person.pk not in seen:
            seen.add(person.pk)
            distinct.append(person)
    return distinct


def _check_people(actor, people: list[Person], contacts) -> dict:
    """Everyone in scope (else 404); the contacts by person, each naming one of the people."""
    if not people:
        message = _("请选择转运人员")
        raise DomainError(message, fields={"people": message})
    ids = [person.pk for person in people]
    if Person.objects.in_scope(actor).filter(pk__in=ids).count() != len(ids):
        raise Http404
    by_person = {}
    for contact in contacts or ():
        ensure_in_scope(actor, contact)
        if contact.person_id not in ids:
            message = _("密接 %(name)s 不在转运人员中") % {"name": contact.person}
            raise DomainError(message, fields={"contacts": message})
        by_person[contact.person_id] = contact
    return by_person


def _refuse_busy(people: list[Person]) -> None:
    """Lock the people, then refuse anyone already on a planned or picked-up transfer."""
    ids = [person.pk for person in people]
    list(Person.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
    busy = (TransferPassenger.objects.filter(person_id__in=ids, transfer__status__in=OPEN_TRANSFER_STATUSES)
            .select_related("person", "transfer").order_by("transfer_id").first())
    if busy is not None:
        message = _("%(name)s 已在%(transfer)s中") % {"name": busy.person.name, "transfer": transfer_label(busy.transfer)}
        raise Conflict(message, code="already_on_transfer", fields={"people": message})


def _open_cases(person_ids) -> dict:
    return {case.person_id: case for case in Case.objects.filter(person_id__in=person_ids, status__in=Case.OPEN_STATUSES)}


def _destination_text(transfer: Transfer) -> str:
    return transfer.destination.name if transfer.destination_id else transfer.get_destination_kind_display()


def _note_on_cases(*, actor, transfer: Transfer, note: str) -> None:
    """One TRANSFER line on the timeline of each passenger's open case (and the transfer's own case)."""
    cases = {passenger.case_id: passenger.case for passenger in transfer.passengers.select_related("case")
             if passenger.case_id and passenger.case.is_open}
    if transfer.case_id and transfer.case_id not in cases:
        cases[transfer.case_id] = transfer.case
    for case in cases.values():
        case_event_add(actor=actor, case=case, kind=CaseEvent.Kind.TRANSFER, note=f"{transfer_label(transfer)}:{note}")


@transaction.atomic
def transfer_schedule(*, actor, destination_kind, people, window_start, window_end, case=None, contacts=(),
                      destination=None, vehicle="", crew="", note="") -> Transfer:
    """Plan moving people from their households to a hospital, makeshift hospital or central quarantine site.

    The transfer belongs to the case's community, else to the first person's. Each passenger carries
    the case that put them there (the given case for its person, else the person's own open case)
    and their contact row.
    """
    _require_case_editor(actor)
    people = _distinct_people(people)
    contact_of = _check_people(actor, people, contacts)
    if case is not None:
        ensure_in_scope(actor, case)
    _check_window(window_start, window_end)
    community = case.community if case is not None else people[0].community
    _check_destination(actor, destination, destination_kind, community.street_id)
    _refuse_busy(people)
    transfer = Transfer.objects.create(
        community=community, destination_kind=destination_kind, destination=destination, case=case,
        vehicle=normalize_text(vehicle)[:50], crew=normalize_text(crew)[:100], window_start=window_start,
        window_end=window_end, note=normalize_text(note)[:300], created_by=actor if actor.pk else None)
    cases = _open_cases([person.pk for person in people])
    if case is not None:
        cases[case.person_id] = case
    TransferPassenger.objects.bulk_create([
        TransferPassenger(transfer=transfer, community_id=person.community_id, person=person,
                          household_id=person.household_id, case=cases.get(person.pk), contact=contact_of.get(person.pk))
        for person in people])
    audit.record(actor=actor, action=audit.Action.CREATE, obj=transfer, object_repr=transfer_label(transfer),
                 fields=["destination_kind", "destination", "window_start", "window_end", "passengers"])
    _note_on_cases(actor=actor, transfer=transfer, note=_("已安排转运至%(to)s,%(n)s 人") % {
        "to": _destination_text(transfer), "n": len(people)})
    return transfer


def _locked_transfer(actor, transfer: Transfer) -> Transfer:
    """The transfer, locked; the actor must record transfers and cover every passenger."""
    _require_case_editor(actor)
    ensure_in_scope(actor, transfer)
    locked = Transfer.objects.select_for_update().get(pk=transfer.pk)
    passengers = TransferPassenger.objects.filter(transfer=locked)
    if passengers.exclude(pk__in=TransferPassenger.objects.in_scope(actor).values("pk")).exists():
        raise NotAllowed(_("该转运中有不在您管辖范围内的人员,请由社区或街道工作人员操作"))
    return Transfer.objects.select_related("destination", "case", "community").get(pk=locked.pk)


def _refuse_unless(transfer: Transfer, status: str) -> None:
    """A transfer not in `status` (a double submission, a stale page) changes nothing."""
    if transfer.status == status:
        return
    messages = {Transfer.Status.PLANNED: _("该转运尚未接走"),
                Transfer.Status.PICKED_UP: _("该转运已于 %(t)s 接走,请勿重复提交"),
                Transfer.Status.ARRIVED: _("该转运已于 %(t)s 送达,请勿重复提交"),
                Transfer.Status.CANCELLED: _("该转运已取消")}
    moment = transfer.arrived_at if transfer.status == Transfer.Status.ARRIVED else transfer.picked_up_at
    message = messages[Transfer.Status(transfer.status)]
    if moment is not None:
        message = message % {"t": _moment_label(moment)}
    raise Conflict(message, code=f"transfer_{transfer.status}", fields={"status": message})


def _clean_moment(at: datetime.datetime | None, field: str) -> datetime.datetime:
    now = timezone.now()
    at = at or now
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    if at > now + CLOCK_SKEW:
        message = _("时间不能晚于现在")
        raise DomainError(message, fields={field: message})
    return at


@transaction.atomic
def transfer_update(*, actor, transfer: Transfer, destination=None, vehicle=None, crew=None, window_start=None,
                    window_end=None, note=None) -> Transfer:
    """Change a planned transfer; a value left None stays as it is."""
    transfer = _locked_transfer(actor, transfer)
    _refuse_unless(transfer, Transfer.Status.PLANNED)
    values = {"vehicle": None if vehicle is None else normalize_text(vehicle)[:50],
              "crew": None if crew is None else normalize_text(crew)[:100],
              "note": None if note is None else normalize_text(note)[:300],
              "window_start": window_start, "window_end": window_end, "destination": destination}
    values = {field: value for field, value in values.items() if value is not None}
    _check_window(values.get("window_start", transfer.window_start), values.get("window_end", transfer.window_end))
    if destination is not None:
        _check_destination(actor, destination, transfer.destination_kind, transfer.community.street_id)
    changed = [field for field, value in values.items() if getattr(transfer, field) != value]
    if not changed:
        return transfer
    for field in changed:
        setattr(transfer, field, values[field])
    transfer.save(update_fields=[*changed, "updated_at"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=transfer, object_repr=transfer_label(transfer),
                 fields=changed)
    return transfer


def _passenger_cases(transfer: Transfer) -> list[Case]:
    return list(Case.objects.filter(person__transfers__transfer=transfer, status__in=Case.OPEN_STATUSES)
                .select_related("person").order_by("pk"))


@transaction.atomic
def transfer_pick_up(*, actor, transfer: Transfer, at: datetime.datetime | None = None) -> Transfer:
    """The crew has the passengers on board: their open cases read 转运中 (a case already in care keeps its status)."""
    transfer = _locked_transfer(actor, transfer)
    _refuse_unless(transfer, Transfer.Status.PLANNED)
    transfer.picked_up_at = _clean_moment(at, "picked_up_at")
    transfer.status = Transfer.Status.PICKED_UP
    transfer.save(update_fields=["status", "picked_up_at", "updated_at"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=transfer, object_repr=transfer_label(transfer),
                 fields=["status", "picked_up_at"])
    location = _("转运途中,前往%(to)s") % {"to": _destination_text(transfer)}
    for case in _passenger_cases(transfer):
        if case.status in (Case.Status.FOUND, Case.Status.TRANSFERRED):
            case_status_set(actor=actor, case=case, status=Case.Status.TRANSFERRED, location=location)
    _note_on_cases(actor=actor, transfer=transfer, note=_("已接走"))
    return transfer


@transaction.atomic
def transfer_arrive(*, actor, transfer: Transfer, at: datetime.datetime | None = None) -> Transfer:
    """The passengers are at the destination: cases in hospital or central quarantine there, home observations moved."""
    transfer = _locked_transfer(actor, transfer)
    _refuse_unless(transfer, Transfer.Status.PICKED_UP)
    if transfer.destination is None:
        message = _("请先指定目的地")
        raise DomainError(message, code="destination_missing", fields={"destination": message})
    at = _clean_moment(at, "arrived_at")
    if at < transfer.picked_up_at:
        message = _("送达时间早于接走时间(%(t)s)") % {"t": _moment_label(transfer.picked_up_at)}
        raise DomainError(message, code="arrival_before_pick_up", fields={"arrived_at": message})
    transfer.arrived_at = at
    transfer.status = Transfer.Status.ARRIVED
    transfer.save(update_fields=["status", "arrived_at", "updated_at"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=transfer, object_repr=transfer_label(transfer),
                 fields=["status", "arrived_at"])
    destination = transfer.destination
    for case in _passenger_cases(transfer):
        case_status_set(actor=actor, case=case, status=ARRIVAL_CASE_STATUS[Destination.Kind(destination.kind)],
                        location=destination.name)
    if destination.kind == Destination.Kind.CENTRAL_QUARANTINE:
        _move_home_observations(actor=actor, transfer=transfer, site=destination.name)
    _note_on_cases(actor=actor, transfer=transfer, note=_("已送达 %(to)s") % {"to": destination.name})
    return transfer


def _move_home_observations(*, actor, transfer: Transfer, site: str) -> None:
    observations = (Observation.objects.active().filter(person__transfers__transfer=transfer,
                                                        kind__in=HOME_OBSERVATION_KINDS).order_by("pk"))
    for observation in observations:
        observation_transfer(actor=actor, observation=observation, site=site)


@transaction.atomic
def transfer_cancel(*, actor, transfer: Transfer, reason: str) -> Transfer:
    """Call off a planned transfer; the passengers may then be put on another one."""
    transfer = _locked_transfer(actor, transfer)
    reason = _required_reason(reason)
    if transfer.status == Transfer.Status.PICKED_UP:
        message = _("已接走的转运不能取消,请登记送达")
        raise Conflict(message, code="transfer_picked_up", fields={"status": message})
    _refuse_unless(transfer, Transfer.Status.PLANNED)
    transfer.status = Transfer.Status.CANCELLED
    transfer.note = f"{transfer.note} {_('取消原因')}:{reason}".strip()[:300]
    transfer.save(update_fields=["status", "note", "updated_at"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=transfer, object_repr=transfer_label(transfer),
                 fields=["status", "note"])
    _note_on_cases(actor=actor, transfer=transfer, note=_("已取消:%(r)s") % {"r": reason})
    return transfer
