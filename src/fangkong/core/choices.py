"""`Choice[Case.Status]`: an API field or parameter that takes one of a model's choices.

Ninja gathers the enums of every schema into one table of OpenAPI components keyed by the class's
own name, so `Case.Status`, `Venue.Status` and `ResampleTask.Status` would share one `Status`
entry, each writing over the last, and the published document would offer a case the statuses of
a task. `Choice` writes the values out where the field is, so each field lists its own. The field
still takes and gives the choices class itself: only the document changes.
"""

from typing import Annotated

from pydantic import WithJsonSchema


class Choice:
    def __class_getitem__(cls, choices):
        return Annotated[choices, WithJsonSchema({"type": "string", "enum": list(choices.values)})]
