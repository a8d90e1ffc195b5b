"""Reads of accounts: the staff an actor may name on a team or a task, and the bearer token's holder,
which every API request reads, in plain SQL (see core.rawsql)."""

import datetime
from functools import cache

from django.db.models import Q

from fangkong.accounts.models import ApiToken, User
from fangkong.core import rawsql
from fangkong.core.roles import Role
from fangkong.core.scope import get_in_scope, scope_of


def staff_for(actor):
    """Staff accounts whose scope meets the actor's: who may be named on a team."""
    scope = scope_of(actor)
    staff = User.objects.filter(is_active=True).exclude(role__in=["", Role.RESIDENT])
    if scope.everything:
        return staff
    meets = (Q(scope_street_id__in=scope.street_ids) | Q(scope_communities__in=scope.community_ids)
             | Q(scope_grids__in=scope.grid_ids) | Q(scope_grids__community_id__in=scope.community_ids))
    return staff.filter(meets).distinct()


def get_staff_member_for(actor, pk):
    return get_in_scope(staff_for(actor), pk)


@cache
def _token_sql() -> tuple[list[str], str]:
    names, selected = rawsql.columns(User, "u")
    sql = (f"SELECT t.{rawsql.column(ApiToken, 'id')}, t.{rawsql.column(ApiToken, 'last_used_at')}, {selected}"
           f" FROM {rawsql.table(ApiToken)} t JOIN {rawsql.table(User)} u"
           f" ON u.{rawsql.column(User, 'id')} = t.{rawsql.column(ApiToken, 'user')}"
           f" WHERE t.{rawsql.column(ApiToken, 'digest')} = %s")
    return names, sql


def token_holder(digest: str) -> tuple[int, datetime.datetime | None, User] | None:
    """(token id, when it was last used, its user) for a token's digest; one query."""
    names, sql = _token_sql()
    row = rawsql.fetch_one(sql, [digest])
    if row is None:
        return None
    last_used = rawsql.python_value(ApiToken._meta.get_field("last_used_at"), row[1])
    return row[0], last_used, rawsql.instance(User, names, row[2:])
