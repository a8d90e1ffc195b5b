"""The one mechanism that limits every read to the actor's scope.

A staff account is bound to a street, communities or grids; a resident to their household;
the system administrator (superuser) sees everything. Each scoped model names, in
`scope_fields`, the path from its rows to a street, community, grid or household id;
`Model.objects.in_scope(actor)` turns the actor's scope into one filter on those paths.
Console, API, exports and CLI all read through it. What an account is bound to is read by
accounts (`accounts.scope.account_scope`, named in settings.SCOPE_OF_ACCOUNT).
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.module_loading import import_string

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
    """Nobody signed in sees nothing and the system administrator everything; any other account's scope is
    its binding, which accounts knows (settings.SCOPE_OF_ACCOUNT), so that core names no app above it."""
    if actor is None or not actor.is_authenticated or not actor.is_active:
        return Scope()
    if actor.is_superuser:
        return Scope(everything=True)
    return import_string(settings.SCOPE_OF_ACCOUNT)(actor)


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
