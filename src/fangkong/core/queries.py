"""Scoped reads of the audit trail: what community staff may browse."""

import datetime

from fangkong.core.models import AuditEvent
from fangkong.core.scope import community_ids_in_scope


def audit_events_for(actor, *, action: str = "", actor_label: str = "", day: datetime.date | None = None):
    """AuditEvents of the communities the actor sees wholly (all of them for the administrator)."""
    events = AuditEvent.objects.all()
    community_ids = community_ids_in_scope(actor)
    if community_ids is not None:
        events = events.filter(community_id__in=community_ids)
    if action:
        events = events.filter(action=action)
    if actor_label:
        events = events.filter(actor_label__icontains=actor_label)
    if day:
        events = events.filter(created_at__date=day)
    return events.select_related("community")
