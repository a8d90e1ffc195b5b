"""Writing AuditEvents. Services call record(); nothing else writes the table."""

from django.db import models

from fangkong.core.actors import context_of
from fangkong.core.models import AuditEvent

Action = AuditEvent.Action


def actor_label(actor) -> str:
    ctx = context_of(actor)
    if actor is None:
        return "system"
    name = actor.get_username()
    if ctx.via == "cli":
        return f"{name} (命令行{'/' + ctx.cli_label if ctx.cli_label else ''})"
    return name


def record(*, actor, action: str, obj: models.Model | None = None, object_type: str = "",
           object_repr: str = "", fields=(), community_id: int | None = None) -> AuditEvent:
    ctx = context_of(actor)
    if obj is not None:
        object_type = object_type or obj._meta.model_name
        object_repr = object_repr or str(obj)[:200]
        if community_id is None:
            community_id = getattr(obj, "community_id", None)
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        actor_label=actor_label(actor),
        via=ctx.via,
        action=action,
        object_type=object_type,
        object_id=str(obj.pk) if obj is not None and obj.pk else "",
        object_repr=object_repr[:200],
        fields=sorted(fields),
        community_id=community_id,
        client_address=ctx.client_address,
    )
