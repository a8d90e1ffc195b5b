"""Health checks of observed people (twice a day, by themselves or by staff) and the alerts abnormal ones raise."""

import datetime
import uuid
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import audit
from fangkong.core.client_ids import clean_client_id
from fangkong.core.clock import not_later_than_now
from fangkong.core.errors import Conflict, DomainError, NotAllowed
from fangkong.core.idnumbers import normalize_text
from fangkong.core.roles import is_resident
from fangkong.core.scope import ensure_in_scope, get_in_scope
from fangkong.health.models import HealthAlert, HealthCheck, Observation, Reporter, Symptom, check_window
from fangkong.health.permissions import require_observation_staff
from fangkong.people.models import Person

MIN_TEMPERATURE, MAX_TEMPERATURE = Decimal("34.0"), Decimal("42.0")
FEVER_FROM = Decimal("37.3")
STAFF_REPORTERS = (Reporter.STAFF_DOOR, Reporter.STAFF_PHONE)


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
    if is_resident(actor):
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
    observation = get_in_scope(Observation.objects.in_scope(actor), observation.pk)
    if observation.status != Observation.Status.ACTIVE:
        message = _("该隔离观察已结束,不再接收体温记录")
        raise DomainError(message, code="not_active", fields={"observation": message})
    return observation


def _check_taken_at(taken_at: datetime.datetime | None, observation: Observation) -> datetime.datetime:
    taken_at = not_later_than_now(taken_at, field="taken_at", label=_("测量时间"))
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
    client_id = clean_client_id(client_id, required=False)
    if client_id is not None:
        existing = HealthCheck.objects.filter(client_id=client_id).first()
        if existing is not None:
            ensure_in_scope(actor, existing)
            return existing
    observation = _observation_to_check(actor, observation, person)
    values = {"temperature": _clean_temperature(temperature), "symptoms": _clean_symptoms(symptoms),
              "reporter": _clean_reporter(actor, reporter), "taken_at": _check_taken_at(taken_at, observation)}
    try:
        with transaction.atomic():
            return _store_check(actor=actor, observation=observation, client_id=client_id, **values)
    except IntegrityError:
        existing = HealthCheck.objects.filter(client_id=client_id).first() if client_id is not None else None
        if existing is None:
            raise
        return existing


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
    require_observation_staff(actor)
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
