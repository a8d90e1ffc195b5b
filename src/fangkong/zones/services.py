"""Every write about zones: proposals, activation, changes, unlock dates, lifting, and the care inside.

A positive case calls `zone_note_positive` and `zone_propose`; nothing else reaches in here
but explicit service calls. Every change writes a ZoneEvent and an AuditEvent.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.roles import is_staff_member
from fangkong.core import audit
from fangkong.core.errors import Conflict, DomainError, NotAllowed
from fangkong.core.idnumbers import normalize_text
from fangkong.core.scope import ensure_in_scope
from fangkong.people.models import Person
from fangkong.zones.models import VULNERABLE_TAGS, CareCheck, CareTask, MedicalException, Zone, ZoneEvent
from fangkong.zones.places import households_in


# ---------------------------------------------------------------------------
# Zones and their unlock dates
# ---------------------------------------------------------------------------


# ---------------------------------------------------------------------------
# Care inside zones
# ---------------------------------------------------------------------------

def vulnerable_people(zone: Zone):
    """The people inside the zone with a tag that needs a daily look (dialysis, pregnant, ...)."""
    return (Person.objects.filter(household__in=households_in(zone), tags__tag__in=VULNERABLE_TAGS)
            .distinct().prefetch_related("tags"))


@transaction.atomic
def care_tasks_sync(*, actor, zone: Zone) -> int:
    """Give every vulnerable person inside an active zone a standing daily check; return how many were added.

    Tasks of people no longer inside (moved, untagged) stop; a zone that ended stops them all.
    """
    inside = {} if zone.status != Zone.Status.ACTIVE else {person.pk: person for person in vulnerable_people(zone)}
    existing = {task.person_id: task for task in CareTask.objects.select_for_update().filter(zone=zone)}
    added = []
    for person_id, person in inside.items():
        needs = sorted(tag.tag for tag in person.tags.all() if tag.tag in VULNERABLE_TAGS)
        task = existing.get(person_id)
        if task is None:
            added.append(CareTask(zone=zone, community_id=zone.community_id, person=person,
                                  household_id=person.household_id, needs=needs))
        elif not task.active or task.needs != needs:
            task.active, task.needs = True, needs
            task.save(update_fields=["active", "needs", "updated_at"])
    CareTask.objects.filter(zone=zone, active=True).exclude(person_id__in=inside).update(active=False)
    CareTask.objects.bulk_create(added)
    if added:
        audit.record(actor=actor, action=audit.Action.CREATE, object_type="caretask", community_id=zone.community_id,
                     object_repr=f"{zone} +{len(added)}", fields=["person", "needs"])
    return len(added)


def _require_care_staff(actor) -> None:
    if not is_staff_member(actor):
        raise NotAllowed(_("只有工作人员可以登记关照和就医例外"))


def _task_label(task: CareTask) -> str:
    return f"{task.person.name} · {task.zone}"


def _covers_person(user, person_id: int) -> bool:
    return (user.is_active and is_staff_member(user)
            and Person.objects.in_scope(user).filter(pk=person_id).exists())


@transaction.atomic
def care_task_assign(*, actor, task: CareTask, assignee) -> CareTask:
    """Name who looks in on the person each day: a staff member whose scope covers the household (None clears it)."""
    _require_care_staff(actor)
    ensure_in_scope(actor, task)
    if assignee is not None and not _covers_person(assignee, task.person_id):
        message = _("%(user)s 不负责该户,不能指派") % {"user": assignee}
        raise DomainError(message, fields={"assignee": message})
    task.assignee = assignee
    task.save(update_fields=["assignee", "updated_at"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=task, object_repr=_task_label(task), fields=["assignee"])
    return task


def _clean_check(outcome: str, note: str, day) -> tuple[str, str, object]:
    if outcome not in CareCheck.Outcome.values:
        message = _("情况应为:%(choices)s") % {"choices": "、".join(f"{v}({l})" for v, l in CareCheck.Outcome.choices)}
        raise DomainError(message, fields={"outcome": message})
    note = normalize_text(note or "")[:300]
    if outcome == CareCheck.Outcome.NEEDS_HELP and not note:
        message = _("需要帮助时请写明需要什么")
        raise DomainError(message, fields={"note": message})
    today = timezone.localdate()
    day = day or today
    if day > today:
        message = _("日期不能晚于今天")
        raise DomainError(message, fields={"day": message})
    return outcome, note, day


@transaction.atomic
def care_check_record(*, actor, task: CareTask, outcome: str, note: str = "", day=None) -> CareCheck:
    """Record the day's check of a care task; a second record the same day replaces the first.

    A phone on a weak network sends the same check twice: that must neither fail nor count twice.
    """
    _require_care_staff(actor)
    ensure_in_scope(actor, task)
    outcome, note, day = _clean_check(outcome, note, day)
    locked = CareTask.objects.select_for_update(of=("self",)).select_related("zone", "person").get(pk=task.pk)
    if not locked.active or locked.zone.status != Zone.Status.ACTIVE:
        raise Conflict(_("该关照任务已停止(区域已解除或人员已不在区域内)"), code="not_active")
    check, created = CareCheck.objects.update_or_create(
        task=locked, day=day,
        defaults={"community_id": locked.community_id, "outcome": outcome, "note": note,
                  "checked_by": actor if actor.pk else None})
    audit.record(actor=actor, action=audit.Action.CREATE if created else audit.Action.UPDATE, obj=check,
                 object_repr=f"{_task_label(locked)} {day:%Y-%m-%d}", fields=["outcome", "note"])
    return check


def _clean_need(need: str) -> str:
    if need not in MedicalException.Need.values:
        message = _("就医需求应为:%(choices)s") % {
            "choices": "、".join(f"{v}({l})" for v, l in MedicalException.Need.choices)}
        raise DomainError(message, fields={"need": message})
    return need


def _ensure_inside(zone: Zone, person: Person) -> None:
    if person.household_id is None or not households_in(zone).filter(pk=person.household_id).exists():
        message = _("%(person)s 不住在 %(zone)s 内") % {"person": person.name, "zone": zone.place_label}
        raise DomainError(message, code="not_inside", fields={"person": message})


@transaction.atomic
def medical_exception_allow(*, actor, zone: Zone, person: Person, need: str, note: str = "", destination: str = "",
                            valid_on=None) -> MedicalException:
    """Let a person inside a zone out for a medical need, and log it with who allowed it.

    Never refused because of the zone (its level or status): dialysis, chemotherapy, a birth or an
    emergency outrank every zone rule. Any staff member in scope may record it.
    """
    _require_care_staff(actor)
    ensure_in_scope(actor, zone)
    ensure_in_scope(actor, person)
    need = _clean_need(need)
    _ensure_inside(zone, person)
    by = actor if actor.pk else None
    exception = MedicalException.objects.create(
        zone=zone, community_id=zone.community_id, person=person, need=need,
        destination=normalize_text(destination or "")[:100], note=normalize_text(note or "")[:300],
        valid_on=valid_on or timezone.localdate(), allowed_by=by)
    summary = _("%(need)s:%(person)s,%(by)s 批准") % {
        "need": exception.get_need_display(), "person": person.name, "by": audit.actor_label(actor)}
    if exception.destination:
        summary = f"{summary} → {exception.destination}"
    ZoneEvent.objects.create(zone=zone, community_id=zone.community_id, kind=ZoneEvent.Kind.EXCEPTION,
                             note=summary[:300], by=by)
    audit.record(actor=actor, action=audit.Action.CREATE, obj=exception, object_repr=f"{zone} {summary}"[:200],
                 fields=["person", "need", "destination", "note", "valid_on"])
    return exception
