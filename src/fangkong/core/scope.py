"""The one mechanism that limits every read to the actor's scope.

A staff account is bound to a street, communities or grids; a resident to their household;
the system administrator (superuser) sees everything. Each scoped model names, in
`scope_fields`, the path from its rows to a street, community, grid or household id;
`Model.objects.in_scope(actor)` turns the actor's scope into one filter on those paths.
Console, API, exports and CLI all read through it.
"""

from dataclasses import dataclass, field
from functools import cache

from django.db import models
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404

from fangkong.core import rawsql
from fangkong.core.converters import is_id


@dataclass(frozen=True)
class Scope:
    everything: bool = False
    street_ids: frozenset = field(default_factory=frozenset)
    community_ids: frozenset = field(default_factory=frozenset)
    grid_ids: frozenset = field(default_factory=frozenset)
    household_ids: frozenset = field(default_factory=frozenset)

    def holds_community(self, community_id: int) -> bool:
        """Whether the whole community is in scope, and with it every row scoped by `community`."""
        return self.everything or community_id in self.community_ids


def _compute_scope(actor) -> Scope:
    from fangkong.accounts.models import Role

    if actor is None or not actor.is_authenticated or not actor.is_active:
        return Scope()
    if actor.is_superuser:
        return Scope(everything=True)
    if actor.role == Role.RESIDENT:
        household_id = actor.person.household_id if actor.person_id else None
        return Scope(household_ids=frozenset([household_id] if household_id else []))
    rows = rawsql.fetch_all(_staff_scope_sql(), staff_scope_params(actor))
    return Scope(street_ids=frozenset([actor.scope_street_id] if actor.scope_street_id else []),
                 community_ids=frozenset(pk for kind, pk in rows if kind == "c"),
                 grid_ids=frozenset(pk for kind, pk in rows if kind == "g"))


@cache
def _staff_scope_sql() -> str:
    """A staff account's communities (its own, and its street's) and grids as (kind, pk) rows, in one query."""
    from fangkong.accounts.models import User
    from fangkong.places.models import Community

    communities = User.scope_communities.through
    grids = User.scope_grids.through
    return (f"SELECT 'c' AS kind, {rawsql.column(communities, 'community')} AS pk FROM {rawsql.table(communities)}"
            f" WHERE {rawsql.column(communities, 'user')} = %(scope_user)s"
            f" UNION ALL SELECT 'c', {rawsql.column(Community, 'id')} FROM {rawsql.table(Community)}"
            f" WHERE {rawsql.column(Community, 'street')} = %(scope_street)s"
            f" UNION ALL SELECT 'g', {rawsql.column(grids, 'grid')} FROM {rawsql.table(grids)}"
            f" WHERE {rawsql.column(grids, 'user')} = %(scope_user)s")


def staff_scope_params(actor) -> dict:
    """The parameters of `_staff_scope_sql` and `community_in_scope_sql` for an active staff account."""
    return {"scope_everything": actor.is_superuser, "scope_user": actor.pk, "scope_street": actor.scope_street_id}


def community_in_scope_sql(community: str) -> str:
    """An SQL condition that holds when an active staff account's scope holds the whole community `community`
    (a column), as `Scope.holds_community` decides, with `staff_scope_params`.

    For a statement that checks the scope in the same round trip as its work (sample registration).
    """
    return (f"(%(scope_everything)s OR {community} IN"
            f" (SELECT staff_scope.pk FROM ({_staff_scope_sql()}) staff_scope WHERE staff_scope.kind = 'c'))")


def scope_of(actor) -> Scope:
    """The actor's scope, computed once per actor object (one request, one command)."""
    if actor is None:
        return Scope()
    cached = getattr(actor, "_fangkong_scope", None)
    if cached is None:
        cached = _compute_scope(actor)
        actor._fangkong_scope = cached
    return cached


def forget_scope(actor) -> None:
    if hasattr(actor, "_fangkong_scope"):
        del actor._fangkong_scope


def community_ids_in_scope(actor) -> frozenset | None:
    """The communities the actor sees wholly; None means every community."""
    scope = scope_of(actor)
    return None if scope.everything else scope.community_ids


class ScopedQuerySet(models.QuerySet):
    def narrowed(self, **filters):
        """Apply only the filters given a value: a list page's empty filter means 'all'."""
        return self.filter(**{lookup: value for lookup, value in filters.items() if value not in (None, "")})

    def in_scope(self, actor):
        scope = scope_of(actor)
        if scope.everything:
            return self
        paths = self.model.scope_fields
        condition = Q(pk__in=[])
        direct = [("street", scope.street_ids), ("community", scope.community_ids),
                  ("grid", scope.grid_ids), ("household", scope.household_ids)]
        for key, ids in direct:
            if ids and key in paths:
                condition |= Q(**{f"{paths[key]}__in": ids})
        related = [("community_any", scope.community_ids), ("grid_any", scope.grid_ids)]
        for key, ids in related:
            if ids and key in paths:
                matching = self.model._default_manager.filter(**{f"{paths[key]}__in": ids}).values("pk")
                condition |= Q(pk__in=matching)
        return self.filter(condition)


def get_in_scope(rows, pk):
    """The row `pk` of `rows`, or 404: the body of every `get_<entity>_for(actor, pk)`.

    `rows` is what the lookup may reach, already narrowed: the actor's scoped list (so a row outside
    the scope is 404 like a missing one), or the rows a round or a signed poster opens. An id that
    cannot exist (0, 'x', 2**64) is 404 as well, never a database error.
    """
    if not is_id(pk):
        raise Http404
    return get_object_or_404(rows, pk=pk)


def ensure_in_scope(actor, obj) -> None:
    """Raise 404 when obj lies outside the actor's scope (a write must not reveal it exists)."""
    if not type(obj).objects.in_scope(actor).filter(pk=obj.pk).exists():
        raise Http404
