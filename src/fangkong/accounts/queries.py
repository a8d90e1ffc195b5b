"""Reads of accounts that run on every API request, in plain SQL (see core.rawsql)."""

import datetime
from functools import cache

from fangkong.accounts.models import ApiToken, User
from fangkong.core import rawsql


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
