"""What an account's scope is, for the mechanism in core.scope (settings.SCOPE_OF_ACCOUNT names `account_scope`).

A resident's scope is their household; a staff account's is its street, communities and grids,
read in one statement. The same statement, as SQL, lets a hot write check the scope in its own
round trip (`community_in_scope_sql`, for sample registration).
"""

from functools import cache

from fangkong.accounts.models import User
from fangkong.core import rawsql
from fangkong.core.roles import is_resident
from fangkong.core.scope import Scope
from fangkong.places.models import Community


def account_scope(actor) -> Scope:
    """The scope of an active account that is not the system administrator."""
    if is_resident(actor):
        household_id = actor.person.household_id if actor.person_id else None
        return Scope(household_ids=frozenset([household_id] if household_id else []))
    rows = rawsql.fetch_all(_staff_scope_sql(), staff_scope_params(actor))
    return Scope(street_ids=frozenset([actor.scope_street_id] if actor.scope_street_id else []),
                 community_ids=frozenset(pk for kind, pk in rows if kind == "c"),
                 grid_ids=frozenset(pk for kind, pk in rows if kind == "g"))


@cache
def _staff_scope_sql() -> str:
    """A staff account's communities (its own, and its street's) and grids as (kind, pk) rows, in one query."""
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
