"""Writing AuditEvents. Services call record() or record_many(), or embed `insert_select_sql` in a statement;
nothing else writes the table."""

from django.db import models
from django.utils import timezone

from fangkong.core import rawsql
from fangkong.core.actors import context_of
from fangkong.core.bulk import insert_rows
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


_MANY_COLUMNS = ("actor_id", "actor_label", "via", "action", "object_type", "object_id", "object_repr", "fields",
                 "community_id", "client_address", "created_at")


def record_many(*, actor, action: str, object_type: str, community_id: int | None, objects) -> None:
    """One event per object, written in one stream: `objects` yields (pk, repr, fields).

    A ledger import changes thousands of persons at once, and each change is audited like any other.
    """
    ctx = context_of(actor)
    common = (actor.pk if actor is not None and actor.pk else None, actor_label(actor), ctx.via, action, object_type)
    now = timezone.now()
    insert_rows(AuditEvent, _MANY_COLUMNS, [
        (*common, str(pk), str(text)[:200], sorted(fields), community_id, ctx.client_address, now)
        for pk, text, fields in objects])


def insert_select_sql(*, event: str, object_id: str, community: str, source: str,
                      object_repr: str = "%(audit_object_repr)s") -> str:
    """An INSERT … SELECT writing one event for each row of `source` (SQL after FROM), whose object id and
    community (and, when each row names a different object, repr) are the SQL expressions given; the rest
    comes from `insert_select_params`, `event` naming which of its events (one statement may write several).

    For a statement that audits its own change in the same round trip (a tube a registration opens or closes).
    """
    columns = ", ".join(rawsql.column(AuditEvent, name) for name in _MANY_COLUMNS)
    return (f"INSERT INTO {rawsql.table(AuditEvent)} ({columns}) SELECT %(audit_actor)s, %(audit_actor_label)s,"
            f" %(audit_via)s, %(audit_{event}_action)s, %(audit_object_type)s, {object_id}, {object_repr},"
            f" %(audit_{event}_fields)s, {community}, %(audit_client_address)s, %(audit_created_at)s FROM {source}")


def insert_select_params(*, actor, object_type: str, object_repr: str, events: dict[str, tuple[str, list]]) -> dict:
    """The parameters of `insert_select_sql`; `events` maps each event's name to its (action, fields)."""
    ctx = context_of(actor)
    params = {"audit_actor": actor.pk if actor is not None and actor.pk else None,
              "audit_actor_label": actor_label(actor), "audit_via": ctx.via, "audit_object_type": object_type,
              "audit_object_repr": object_repr[:200], "audit_client_address": ctx.client_address,
              "audit_created_at": rawsql.db_value(AuditEvent, "created_at", timezone.now())}
    for event, (action, fields) in events.items():
        params[f"audit_{event}_action"] = action
        params[f"audit_{event}_fields"] = rawsql.db_value(AuditEvent, "fields", sorted(fields))
    return params
