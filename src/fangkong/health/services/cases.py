"""A case's own record: its timeline, its status (forward only) and its clinical severity."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import audit
from fangkong.core.errors import Conflict, require_choice
from fangkong.core.idnumbers import normalize_text
from fangkong.core.scope import ensure_in_scope
from fangkong.health.models import Case, CaseEvent, Contact
from fangkong.health.permissions import require_case_editor


def case_event_add(*, actor, case: Case, kind: str, note: str, contact: Contact | None = None) -> CaseEvent:
    """Add a line to the case's timeline; contacts, transfers and zones call it for their own steps."""
    return CaseEvent.objects.create(case=case, community_id=case.community_id, kind=kind, note=note[:300],
                                    contact=contact, by=actor if actor is not None and actor.pk else None)


# A case moves forward only: found → transferred → in hospital / central quarantine (either way between
# the two, a patient's condition changes) → recovered → closed.
CASE_STATUS_RANK = {Case.Status.FOUND: 0, Case.Status.TRANSFERRED: 1, Case.Status.IN_HOSPITAL: 2,
                    Case.Status.IN_CENTRAL_QUARANTINE: 2, Case.Status.RECOVERED: 3, Case.Status.CLOSED: 4}


def _locked_case(actor, case: Case) -> Case:
    require_case_editor(actor)
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
