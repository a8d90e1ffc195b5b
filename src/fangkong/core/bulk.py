"""Inserting many new rows at once, as fast as the database allows.

On PostgreSQL the rows go through COPY; elsewhere through one parameterised INSERT run for
every row. Rows are plain tuples of column values (no model instances: building 100,000 of
them costs seconds), in the order of the attribute names given, stored exactly as given
(bulk_create would stamp its own time on auto_now fields). The ids come from the database.
"""

import re
from collections.abc import Iterable, Sequence

from django.db import connection, models
from psycopg import sql
from psycopg.types.json import Jsonb


def _copy(model, attnames: Sequence[str], rows: Iterable[tuple]) -> None:
    """Values must be types psycopg adapts itself (str, int, date, aware datetime, None), or JSON for JSON fields.

    A broken constraint raises Django's IntegrityError, as the ORM's own statements do.
    """
    fields = [model._meta.get_field(name) for name in attnames]
    json_positions = [i for i, field in enumerate(fields) if isinstance(field, models.JSONField)]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(model._meta.db_table), sql.SQL(", ").join(sql.Identifier(f.column) for f in fields))
    with connection.wrap_database_errors, connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            if json_positions:
                row = list(row)
                for i in json_positions:
                    row[i] = Jsonb(row[i])
            copy.write_row(row)


def _insert_many(model, attnames: Sequence[str], rows: Iterable[tuple]) -> None:
    fields = [model._meta.get_field(name) for name in attnames]
    quote = connection.ops.quote_name
    statement = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(model._meta.db_table), ", ".join(quote(f.column) for f in fields), ", ".join(["%s"] * len(fields)))
    with connection.cursor() as cursor:
        cursor.executemany(statement, [[f.get_db_prep_save(value, connection)
                                        for f, value in zip(fields, row, strict=True)] for row in rows])


def insert_rows(model: type[models.Model], attnames: Sequence[str], rows: Iterable[tuple]) -> None:
    """Insert new rows of model, each a tuple of values for attnames (e.g. "household_id")."""
    if connection.vendor == "postgresql":
        _copy(model, attnames, rows)
    else:
        _insert_many(model, attnames, rows)


def _cast(field) -> str:
    """On PostgreSQL, a VALUES column takes its type from its values, so one holding only NULLs is text:
    cast it to the field's type, without length or precision (a cast to varchar(20) would cut a longer
    text where the column refuses it)."""
    if connection.vendor != "postgresql":
        return ""
    return "::" + re.sub(r"\(.*\)", "", field.db_type(connection))


def update_rows(model: type[models.Model], key: str, attnames: Sequence[str], rows: Sequence[tuple],
                *, chunk: int = 1000) -> None:
    """Set attnames on many rows in a few statements; each row is (key value, *values).

    One `WITH v(...) AS (VALUES …) UPDATE … FROM v` per chunk, which PostgreSQL and SQLite both
    run as a join on the key: updating 100,000 tubes one statement per row, or through a
    correlated subquery the planner may scan for every row, costs minutes.
    """
    fields = [model._meta.get_field(name) for name in (key, *attnames)]
    quote = connection.ops.quote_name
    table, columns = quote(model._meta.db_table), [quote(field.column) for field in fields]
    assignments = ", ".join(f"{column} = v.{column}{_cast(field)}"
                            for column, field in zip(columns[1:], fields[1:], strict=True))
    row_placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), chunk):
            part = rows[start:start + chunk]
            values = ", ".join([row_placeholder] * len(part))
            params = [field.get_db_prep_save(value, connection)
                      for row in part for field, value in zip(fields, row, strict=True)]
            cursor.execute(f"WITH v ({', '.join(columns)}) AS (VALUES {values}) "
                           f"UPDATE {table} SET {assignments} FROM v WHERE {table}.{columns[0]} = v.{columns[0]}",
                           params)
