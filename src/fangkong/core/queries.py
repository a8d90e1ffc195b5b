"""Scoped reads of the audit trail: what community staff may browse."""

import datetime

from fangkong.core.models import AuditEvent


def audit_events_for(actor, *, action: str = "", actor_label: str = "", day: datetime.date | None = None):
    """AuditEvents of the communities the actor sees wholly (all of them for the administrator)."""
    return (AuditEvent.objects.in_scope(actor)
            .narrowed(action=action, actor_label__icontains=actor_label, created_at__date=day)
            .select_related("community"))
