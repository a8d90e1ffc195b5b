"""An object id as it arrives from outside: a URL path, a query string, a request body.

Primary keys are 64-bit signed integers. A larger number would overflow the database driver
(OverflowError on SQLite, DataError on PostgreSQL) and answer 500, so every id a request
carries is bounded to 1 … MAX_ID before it reaches a query: `<id:pk>` in console URLs,
`Id` in API parameters and bodies.
"""

from typing import Annotated

from django.urls import register_converter
from django.urls.converters import get_converters
from pydantic import Field

MAX_ID = 2**63 - 1

Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class IdConverter:
    """`<id:pk>`: 1 to 19 digits, no leading zero, at most MAX_ID; anything else does not match (404)."""

    regex = "[1-9][0-9]{0,18}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise ValueError(value)
        return number

    def to_url(self, value) -> str:
        return str(value)


def is_id(value) -> bool:
    """Whether a value (an int or its decimal text) is a primary key that can exist."""
    text = str(value)
    return text.isascii() and text.isdigit() and len(text) <= 19 and 1 <= int(text) <= MAX_ID


def register_id_converter() -> None:
    """Make `<id:...>` available to the urls.py that calls this; calling it again does nothing."""
    if "id" not in get_converters():
        register_converter(IdConverter, "id")
