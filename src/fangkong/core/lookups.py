"""`field__one_of=[…]`: membership in a long list of values, as one parameter on PostgreSQL.

`field__in` writes one placeholder per value. A device's batch of a thousand swabs looks up a
thousand client ids, persons and barcodes that way, and psycopg spends longer splitting those
queries than PostgreSQL spends answering them. On PostgreSQL `one_of` sends the list as one array
(`= ANY(%s)`), cast to the column's type: psycopg would send small numbers as smallint[], and
bigint = smallint can use neither the index nor a hash of the array; elsewhere it is `in`.
"""

from django.db.models import Field, ForeignObject, Lookup
from django.db.models.lookups import In


class OneOf(Lookup):
    lookup_name = "one_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        if connection.vendor != "postgresql":
            return In(self.lhs, list(self.rhs)).as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        values = [field.get_db_prep_value(value, connection, prepared=False) for value in self.rhs]
        return f"{lhs} = ANY(%s::{field.cast_db_type(connection)}[])", [*lhs_params, values]


Field.register_lookup(OneOf)
ForeignObject.register_lookup(OneOf)
