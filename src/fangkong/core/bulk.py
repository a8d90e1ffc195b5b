"""Inserting many new rows at once, as fast as the database allows.

On PostgreSQL the rows go through COPY; elsewhere bulk_create does the work. Rows are plain
tuples of column values (no model instances: building 100,000 of them costs seconds), in the
order of the attribute names given. The ids come from the database.
"""

from collections.abc import Iterable, Sequence

from django.db import connection, models
from psycopg import sql
from psycopg.types.json import Jsonb

BATCH_SIZE = 1000


def _copy(model, attnames: Sequence[str], rows: Iterable[tuple]) -> None:
    """Values must be types psycopg adapts itself (str, int, date, aware datetime, None), or JSON for JSON fields."""
    fields = [model._meta.get_field(name) for name in attnames]
    json_positions = [i for i, field in enumerate(fields) if isinstance(field, models.JSONField)]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(model._meta.db_table), sql.SQL(", ").join(sql.Identifier(f.column) for f in fields))
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            if json_positions:
                row = list(row)
                for i in json_positions:
                    row[i] = Jsonb(row[i])
            copy.write_row(row)


def insert_rows(model: type[models.Model], attnames: Sequence[str], rows: Iterable[tuple]) -> None:
    """Insert new rows of model, each a tuple of values for attnames (e.g. "household_id")."""
    if connection.vendor == "postgresql":
        _copy(model, attnames, rows)
        return
    objs = [model(**dict(zip(attnames, row))) for row in rows]
    model._default_manager.bulk_create(objs, batch_size=BATCH_SIZE)
