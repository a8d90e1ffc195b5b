"""Every field of the published API that takes one of a model's choices lists exactly those choices.

The OpenAPI document at /api/v1/openapi.json is what an integrator (a sampling device, the
district's system) builds its client from. Ninja gathers the enums of every schema into one
table of components keyed by class name, so two choices classes of one name (`Case.Status`,
`Venue.Status`) would silently share one entry and one of them would list the other's values.

The walk starts from the schemas Ninja built for each operation (parameters, body, responses), goes
down into nested schemas, and for every field whose type is a TextChoices compares the values the
document gives for that field with the class's own.
"""

import typing

import pytest
from django.db import models
from django.test import Client
from pydantic import BaseModel

from fangkong.api import api
from fangkong.health.models import Case, Contact, Destination
from fangkong.places.models import Venue
from fangkong.testing.models import ResampleTask

DOCUMENT = "/api/v1/openapi.json"


@pytest.fixture
def document(db) -> dict:
    response = Client().get(DOCUMENT)
    assert response.status_code == 200
    return response.json()


def _inner_types(annotation) -> list:
    """The types an annotation is made of: `Case.Status | None` → [Case.Status, NoneType], `list[X]` → [X]."""
    origin = typing.get_origin(annotation)
    if origin is None:
        return [annotation]
    if origin is typing.Literal:
        return []
    return [inner for argument in typing.get_args(annotation) for inner in _inner_types(argument)]


def _choices_of(annotation) -> type[models.Choices] | None:
    found = [inner for inner in _inner_types(annotation)
             if isinstance(inner, type) and issubclass(inner, models.Choices)]
    assert len(found) <= 1, f"{annotation}: more than one choices class in one field"
    return found[0] if found else None


def _models_in(annotation) -> list[type[BaseModel]]:
    return [inner for inner in _inner_types(annotation) if isinstance(inner, type) and issubclass(inner, BaseModel)]


def _leaves(schema: dict, components: dict) -> list[dict]:
    """The schemas a field's schema stands for, through $ref, allOf, anyOf, oneOf and array items."""
    if "$ref" in schema:
        return _leaves(components[schema["$ref"].rsplit("/", 1)[-1]], components)
    for key in ("allOf", "anyOf", "oneOf"):
        if key in schema:
            return [leaf for option in schema[key] for leaf in _leaves(option, components)]
    if schema.get("type") == "array" and "items" in schema:
        return _leaves(schema["items"], components)
    return [schema]


def _enum_values(schema: dict, components: dict) -> list:
    enums = [leaf["enum"] for leaf in _leaves(schema, components) if "enum" in leaf]
    assert len(enums) == 1, f"{schema}: expected one enum, found {enums}"
    return enums[0]


def _object_for(model: type[BaseModel], schema: dict, components: dict) -> dict:
    """The object schema of `model` among those a field's schema stands for (by title when there are several)."""
    objects = [leaf for leaf in _leaves(schema, components) if "properties" in leaf]
    if len(objects) > 1:
        objects = [leaf for leaf in objects if leaf.get("title") == model.__name__]
    assert len(objects) == 1, f"{model.__name__}: no single object schema in {schema}"
    return objects[0]


def _choice_fields(model: type[BaseModel], schema: dict, components: dict, where: str, seen: set):
    """(where, field schema, choices class) for every choices-typed field of `model`, nested schemas included."""
    if model in seen:
        return
    seen = seen | {model}
    properties = _object_for(model, schema, components)["properties"]
    for name, field in model.model_fields.items():
        key = field.alias or name
        if key not in properties:
            continue  # left out of the document on purpose (include_in_schema=False)
        choices = _choices_of(field.annotation)
        if choices is not None:
            yield f"{where}.{key}", properties[key], choices
        for nested in _models_in(field.annotation):
            yield from _choice_fields(nested, properties[key], components, f"{where}.{key}", seen)


def _parameter_fields(model: type[BaseModel], parameters: list[dict], components: dict, where: str):
    """The choices-typed query and path parameters; a schema taken as parameters is spread into its fields."""
    by_name = {parameter["name"]: parameter["schema"] for parameter in parameters}
    for name, field in model.model_fields.items():
        nested = _models_in(field.annotation)
        if nested:
            yield from _parameter_fields(nested[0], parameters, components, where)
            continue
        choices = _choices_of(field.annotation)
        if choices is not None:
            key = field.alias or name
            yield f"{where} ?{key}", by_name[key], choices


def _body_schema(operation: dict) -> dict:
    (content,) = operation["requestBody"]["content"].values()
    return content["schema"]


def _operation_fields(operation, documented: dict, components: dict):
    where = f"{operation.view_func.__module__}.{operation.view_func.__name__}"
    for model in operation.models:
        if model.__ninja_param_source__ in ("query", "path"):
            yield from _parameter_fields(model, documented.get("parameters", []), components, where)
        elif len(model.model_fields) == 1:  # one body argument: the document gives its schema directly
            (field,) = model.model_fields.values()
            for nested in _models_in(field.annotation):
                yield from _choice_fields(nested, _body_schema(documented), components, f"{where} body", set())
        else:
            yield from _choice_fields(model, _body_schema(documented), components, f"{where} body", set())
    for status, model in operation.response_models.items():
        if not isinstance(model, type) or not issubclass(model, BaseModel):
            continue
        content = documented["responses"][str(status)].get("content", {})
        if "application/json" not in content:
            continue
        for nested in _models_in(model.model_fields["response"].annotation):
            yield from _choice_fields(nested, content["application/json"]["schema"], components,
                                      f"{where} {status}", set())


def _every_choice_field(document: dict):
    """Every choices-typed field of every operation in the document, with its schema there."""
    components = document["components"]["schemas"]
    by_id = {operation["operationId"]: operation
             for methods in document["paths"].values() for operation in methods.values()}
    for router in api._get_bound_routers():
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                if operation.include_in_schema:
                    documented = by_id[operation.operation_id or api.get_openapi_operation_id(operation)]
                    yield from _operation_fields(operation, documented, components)


def test_every_choices_field_lists_its_own_choices(document):
    # given the published document
    components = document["components"]["schemas"]
    # when every field that takes a model's choices is read from it
    fields = list(_every_choice_field(document))
    # then each lists exactly its class's values, in order
    wrong = {where: (_enum_values(schema, components), list(choices.values))
             for where, schema, choices in fields if _enum_values(schema, components) != list(choices.values)}
    assert wrong == {}


def test_the_walk_reaches_the_fields_whose_names_are_shared(document):
    # given the choices classes that share a class name with another (Status, Kind, Source)
    # when the fields of the document are walked
    reached = {choices for _where, _schema, choices in _every_choice_field(document)}
    # then each of them is among the fields checked, so the comparison above covers the collisions
    assert {Case.Status, Venue.Status, ResampleTask.Status, Case.Source, Contact.Source, Destination.Kind,
            Venue.Kind} <= reached
