"""Hand-written SQL for the few paths that run on every request or every swab.

Building a query through the ORM costs more Python than the database spends answering it
(about half a millisecond against a tenth). The token check, the actor's scope and sample
registration run thousands of times a minute at a busy site, so they are written once here
as plain SQL and turned back into model instances. Everything else uses the ORM.
"""

from functools import cache

import psycopg
from django.db import connection, transaction


def table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def column(model, name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


def columns(model, alias: str) -> tuple[list[str], str]:
    """The model's concrete attnames, and `alias."col", …` selecting them in that order."""
    fields = model._meta.concrete_fields
    names = [field.attname for field in fields]
    selected = ", ".join(f"{alias}.{connection.ops.quote_name(field.column)}" for field in fields)
    return names, selected


@cache
def _converters(field) -> tuple:
    col = field.cached_col
    return col, tuple(connection.ops.get_db_converters(col) + col.get_db_converters(connection))


def python_value(field, value):
    """A value read by hand-written SQL, converted as the ORM converts that field's column."""
    col, converters = _converters(field)
    for converter in converters:
        value = converter(value, col, connection)
    return value


def instance(model, names: list[str], values) -> object:
    """A model instance from a row of `columns(model, …)`, as the ORM would have made it."""
    converted = [python_value(field, value) for field, value in zip(model._meta.concrete_fields, values, strict=True)]
    return model.from_db(connection.alias, names, converted)


def db_value(model, name: str, value):
    """A Python value as this database stores it in that field (a UUID is hex text on SQLite)."""
    return model._meta.get_field(name).get_db_prep_save(value, connection)


def _cursor():
    """Django's cursor, but on PostgreSQL one that sends the parameters apart from the SQL.

    psycopg then prepares a statement run again and again on a connection (`prepare_threshold` in
    the settings; Django's own cursors bind client-side and never prepare), and PostgreSQL parses and
    plans it once per connection rather than on every request: two thirds of what the registration
    statement costs the database. While queries are logged (DEBUG, a test counting queries) it is
    Django's, whose log shows the SQL as sent.
    """
    if connection.vendor != "postgresql" or connection.queries_logged:
        return connection.cursor()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    return connection.make_cursor(psycopg.Cursor(connection.connection))


def fetch_one(sql: str, params) -> tuple | None:
    with _cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def fetch_all(sql: str, params) -> list[tuple]:
    with _cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def fetch_one_alone(sql: str, params) -> tuple | None:
    """Run one statement that is a whole change by itself, as fetch_one.

    Under autocommit the statement is its own transaction, with no BEGIN and COMMIT round trips;
    inside a transaction it gets a savepoint, so that a refused statement leaves that transaction usable.
    """
    if not connection.in_atomic_block:
        return fetch_one(sql, params)
    with transaction.atomic():
        return fetch_one(sql, params)
