"""No URL that takes an id shows or changes a row outside the caller's scope (DESIGN.md, non-negotiable 3).

Every console URL (Django's resolver, walked through its includes) and every API operation (the OpenAPI
document at /api/v1/openapi.json) whose path carries an id is asked, with every method it answers, by staff
of community B and by a grid member of grid B, naming the rows of community A (street-wide rows such as
destinations: of another street). A URL with two ids is also asked with each foreign id beside the caller's
own other one (B's round, A's tube). Each must answer 404, as it would for a row that does not exist, so
that an outsider learns nothing, not even that the row is there; the same request naming B's own rows
must not answer 404, or the test would not be reaching the lookup at all.

Two answers other than 404 are accepted, and only when the same request naming the caller's own rows gets
the very same answer, which shows the refusal came before any row was looked up:
- 405: the URL does not take that method (a console action is POST only; its POST is asked too);
- 403: the caller's role may not use the URL at all, whatever the row (a grid member editing places).
A 403 to both callers fails: one of them must reach the lookup and get its 404.

Which row a path parameter names comes from ROWS, keyed by the path up to that parameter. A new URL whose
parameter is not there fails the test, naming the URL, so no URL is left unguarded.
"""

import json
import re
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import URLResolver, get_resolver
from django.utils import timezone

from tests.access.factories import CheckpointFactory, PassageFactory, PassFactory
from tests.clients import signed_in
from tests.health.factories import (
    CaseFactory,
    ContactFactory,
    DestinationFactory,
    HealthAlertFactory,
    HealthCheckFactory,
    ObservationFactory,
    TransferFactory,
)
from tests.people.factories import ImportJobFactory, PersonFactory
from tests.places.factories import StreetFactory, VenueFactory
from tests.screening.factories import (
    ArrivalFactory,
    FollowUpFactory,
    HouseholdVisitFactory,
    RiskAreaFactory,
    ScreeningRoundFactory,
    VerificationBatchFactory,
    VerificationItemFactory,
)
from tests.testing.factories import (
    AntigenReportFactory,
    LabResultFactory,
    ResampleTaskFactory,
    ResultImportFactory,
    RoundExemptionFactory,
    SampleFactory,
    SamplingSiteFactory,
    TestRoundFactory,
    TubeFactory,
)
from tests.volunteers.factories import PostFactory
from tests.zones.factories import CareTaskFactory, ZoneFactory

API_PREFIX = "/api/v1/"

# The row each path parameter names, keyed by the path up to and including that parameter.
ROWS = {
    # Console
    "/places/compounds/{pk}": lambda r: r.compound.pk,
    "/places/buildings/{pk}": lambda r: r.building.pk,
    "/places/households/{pk}": lambda r: r.household.pk,
    "/places/grids/{pk}": lambda r: r.grid.pk,
    "/places/venues/{pk}": lambda r: r.venue.pk,
    "/people/{pk}": lambda r: r.person.pk,
    "/people/ledger/jobs/{pk}": lambda r: r.import_job.pk,
    "/access/checkpoints/{pk}": lambda r: r.checkpoint.pk,
    "/access/passes/{pk}": lambda r: r.gate_pass.pk,
    "/screening/follow-ups/{pk}": lambda r: r.follow_up.pk,
    "/screening/arrivals/{pk}": lambda r: r.arrival.pk,
    "/screening/poster/{pk}": lambda r: r.community.pk,
    "/screening/lists/{pk}": lambda r: r.batch.pk,
    "/screening/lists/items/{pk}": lambda r: r.item.pk,
    "/screening/rounds/{pk}": lambda r: r.screening_round.pk,
    "/screening/rounds/{pk}/households/{household_pk}": lambda r: r.household.pk,
    "/health/observations/{pk}": lambda r: r.observation.pk,
    "/health/alerts/{pk}": lambda r: r.alert.pk,
    "/health/cases/{pk}": lambda r: r.case.pk,
    "/health/contacts/{pk}": lambda r: r.contact.pk,
    "/health/transfers/{pk}": lambda r: r.transfer.pk,
    "/health/destinations/{pk}": lambda r: r.destination.pk,
    "/zones/{pk}": lambda r: r.zone.pk,
    "/zones/care/tasks/{pk}": lambda r: r.care_task.pk,
    "/volunteers/posts/{pk}": lambda r: r.post.pk,
    "/testing/rounds/{pk}": lambda r: r.test_round.pk,
    "/testing/rounds/{pk}/exemptions/{exemption_pk}": lambda r: r.exemption.pk,
    "/testing/rounds/{pk}/scan/tubes/{tube_pk}": lambda r: r.tube.pk,
    "/testing/rounds/{pk}/coverage/buildings/{building_pk}": lambda r: r.building.pk,
    "/testing/sites/{pk}": lambda r: r.site.pk,
    "/testing/households/{pk}": lambda r: r.household.pk,
    "/testing/results/{pk}": lambda r: r.result_import.pk,
    # API
    "/api/v1/communities/{community_id}": lambda r: r.community.pk,
    "/api/v1/grids/{grid_id}": lambda r: r.grid.pk,
    "/api/v1/compounds/{compound_id}": lambda r: r.compound.pk,
    "/api/v1/buildings/{building_id}": lambda r: r.building.pk,
    "/api/v1/households/{household_id}": lambda r: r.household.pk,
    "/api/v1/venues/{venue_id}": lambda r: r.venue.pk,
    "/api/v1/persons/{person_id}": lambda r: r.person.pk,
    "/api/v1/follow-ups/{id}": lambda r: r.follow_up.pk,
    "/api/v1/risk-areas/{risk_area_id}": lambda r: r.risk_area.pk,
    "/api/v1/arrivals/{arrival_id}": lambda r: r.arrival.pk,
    "/api/v1/verification-batches/{batch_id}": lambda r: r.batch.pk,
    "/api/v1/verification-items/{item_id}": lambda r: r.item.pk,
    "/api/v1/screening-rounds/{round_id}": lambda r: r.screening_round.pk,
    "/api/v1/observations/{observation_id}": lambda r: r.observation.pk,
    "/api/v1/health-alerts/{alert_id}": lambda r: r.alert.pk,
    "/api/v1/cases/{case_id}": lambda r: r.case.pk,
    "/api/v1/contacts/{contact_id}": lambda r: r.contact.pk,
    "/api/v1/destinations/{destination_id}": lambda r: r.destination.pk,
    "/api/v1/transfers/{transfer_id}": lambda r: r.transfer.pk,
    "/api/v1/zones/{zone_id}": lambda r: r.zone.pk,
    "/api/v1/care-tasks/{task_id}": lambda r: r.care_task.pk,
    "/api/v1/posts/{post_id}": lambda r: r.post.pk,
    "/api/v1/test-rounds/{round_id}": lambda r: r.test_round.pk,
    "/api/v1/tubes/{tube_id}": lambda r: r.tube.pk,
    "/api/v1/tubes/{barcode}": lambda r: r.tube.barcode,
    "/api/v1/ledger/import-jobs/{job_id}": lambda r: r.import_job.pk,
    "/api/v1/lab-results/import-jobs/{job_id}": lambda r: r.result_import.pk,
    "/api/v1/checkpoints/{checkpoint_id}": lambda r: r.checkpoint.pk,
    "/api/v1/passes/{pass_id}": lambda r: r.gate_pass.pk,
    "/api/v1/passages/{passage_id}": lambda r: r.passage.pk,
}

# URLs open to anyone by design, with why; they are not asked.
OPEN_BY_DESIGN = {
    "/screening/arrive/{token}": "the public self-report page of a community's poster: the token is the poster",
    "/access/g/{token}": "the public self-scan page of a gate's poster: the token is the poster",
    "/api/v1/{rest}": "the catch-all that answers 404 for every unknown API path",
}

CONSOLE_METHODS = ("get", "post")


@dataclass(frozen=True)
class Endpoint:
    path: str  # with {name} for each parameter
    methods: tuple[str, ...]
    operations: dict  # method -> OpenAPI operation, for the API

    @property
    def is_api(self) -> bool:
        return self.path.startswith(API_PREFIX)

    @property
    def parameters(self) -> list[str]:
        return re.findall(r"\{(\w+)\}", self.path)

    def key_of(self, parameter: str) -> str:
        """The path up to and including `parameter`: its key in ROWS."""
        marker = "{" + parameter + "}"
        return self.path[: self.path.index(marker) + len(marker)]


def _as_braces(route: str) -> str:
    """Django's "rounds/<id:pk>/" as "rounds/{pk}/"."""
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def _django_routes(resolver=None, prefix="/"):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _django_routes(pattern, route)
        else:
            yield _as_braces(route)


def _console_endpoints() -> list[Endpoint]:
    paths = {path for path in _django_routes() if "{" in path and not path.startswith(API_PREFIX)}
    return [Endpoint(path, CONSOLE_METHODS, {}) for path in sorted(paths)]


def _api_endpoints(document: dict) -> list[Endpoint]:
    endpoints = []
    for path, operations in document["paths"].items():
        if "{" in path:
            endpoints.append(Endpoint(path, tuple(sorted(operations)), operations))
    return endpoints


def _api_routes_missing_from(document: dict) -> set[str]:
    """API routes Django knows that the OpenAPI document does not list (and so would not be asked)."""
    routes = {path for path in _django_routes() if "{" in path and path.startswith(API_PREFIX)}
    return routes - set(document["paths"]) - set(OPEN_BY_DESIGN)


# Request bodies, made from the OpenAPI schemas: every required field with a value of its type.


def _resolve(schema: dict, components: dict) -> dict:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _example(schema: dict, components: dict):
    schema = _resolve(schema, components)
    if "default" in schema:
        return schema["default"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [option for option in schema[key] if option.get("type") != "null"]
            return _example(options[0], components)
    if "allOf" in schema:
        return _example(schema["allOf"][0], components)
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: _example(properties[name], components) for name in schema.get("required", [])}
    if kind == "array":
        return [_example(schema["items"], components) for _n in range(schema.get("minItems", 0))]
    if kind == "integer":
        return schema.get("minimum", 1)
    if kind == "number":
        return schema.get("minimum", 36.5)
    if kind == "boolean":
        return False
    if kind == "string":
        return {"date": timezone.localdate().isoformat(), "date-time": timezone.now().isoformat(),
                "uuid": "5f1e0b9e-1c2d-4c1e-9a55-0d6a3b1f7e21"}.get(schema.get("format"), "核查")
    return None


def _query_of(operation: dict, components: dict) -> dict:
    return {p["name"]: _example(p["schema"], components) for p in operation.get("parameters", [])
            if p["in"] == "query" and p.get("required")}


def _api_request(client, method: str, endpoint: Endpoint, path: str, components: dict):
    operation = endpoint.operations[method]
    query = _query_of(operation, components)
    content = operation.get("requestBody", {}).get("content", {})
    if "multipart/form-data" in content:
        schema = _resolve(content["multipart/form-data"]["schema"], components)
        data = {name: SimpleUploadedFile("台账.csv", b"name\n") if spec.get("format") == "binary"
                else _example(spec, components) for name, spec in schema["properties"].items()
                if name in schema.get("required", [])}
        return client.post(path, data)
    if "application/json" in content:
        body = _example(content["application/json"]["schema"], components)
        return client.generic(method.upper(), path, json.dumps(body), content_type="application/json")
    return getattr(client, method)(path, query)


def _ask(client, endpoint: Endpoint, method: str, ids: dict, components: dict):
    """The answer to one request naming `ids`; whatever it wrote is rolled back."""
    path = endpoint.path.format(**ids)
    with transaction.atomic():
        if endpoint.is_api:
            response = _api_request(client, method, endpoint, path, components)
        else:
            response = getattr(client, method)(path, {})
        transaction.set_rollback(True)
    return response


def _is_path_not_found(endpoint: Endpoint, response) -> bool:
    """404 for the row the path names (an API 404 for a body field names that field: not this)."""
    if response.status_code != 404:
        return False
    return not endpoint.is_api or response.json()["error"]["fields"] == {}


# One of every entity, in a community.


def _rows(community, household, *, street):
    """One of every row a URL can name, in `community`, living in `household`; street-wide rows in `street`."""
    person = PersonFactory(household=household, name="跟踪对象")
    neighbour = PersonFactory(household=household, name="同住人")
    observation = ObservationFactory(person=person)
    case = CaseFactory(person=person)
    destination = DestinationFactory(street=street)
    zone = ZoneFactory(place=household.unit)
    test_round = TestRoundFactory(community=community)
    site = SamplingSiteFactory(community=community)
    tube = TubeFactory(round=test_round, site=site, sample_count=1)
    result_import = ResultImportFactory(community=community)
    batch = VerificationBatchFactory(community=community)
    screening_round = ScreeningRoundFactory(community=community)
    checkpoint = CheckpointFactory(community=community, compound=household.compound)
    return SimpleNamespace(
        community=community, grid=household.grid, compound=household.compound, building=household.building,
        unit=household.unit, household=household, person=person, neighbour=neighbour,
        venue=VenueFactory(community=community),
        import_job=ImportJobFactory(community=community),
        follow_up=FollowUpFactory(person=person),
        arrival=ArrivalFactory(person=person),
        risk_area=RiskAreaFactory(street=street),
        batch=batch,
        item=VerificationItemFactory(batch=batch, person=person),
        screening_round=screening_round,
        visit=HouseholdVisitFactory(round=screening_round, household=household),
        observation=observation,
        health_check=HealthCheckFactory(observation=observation),
        alert=HealthAlertFactory(check_record__observation=observation),
        case=case,
        contact=ContactFactory(case=case, person=neighbour),
        destination=destination,
        transfer=TransferFactory(case=case, destination=destination),
        zone=zone,
        care_task=CareTaskFactory(zone=zone, person=person),
        post=PostFactory(building=household.building, zone=zone),
        test_round=test_round,
        site=site,
        exemption=RoundExemptionFactory(round=test_round, person=neighbour),
        tube=tube,
        sample=SampleFactory(tube=tube, person=person),
        result_import=result_import,
        lab_result=LabResultFactory(tube__round=test_round, tube__site=site, source=result_import),
        resample_task=ResampleTaskFactory(tube__round=test_round, tube__site=site, person=person),
        antigen_report=AntigenReportFactory(person=person, round=test_round),
        checkpoint=checkpoint,
        gate_pass=PassFactory(household=household),
        passage=PassageFactory(checkpoint=checkpoint, person=person),
    )


@pytest.fixture
def rows_a(community_a, household_a):
    """Community A's rows; its street-wide rows (destinations, risk areas) belong to another street."""
    return _rows(community_a, household_a, street=StreetFactory(name="外区街道"))


@pytest.fixture
def rows_b(community_b, household_b, street):
    return _rows(community_b, household_b, street=street)


@pytest.fixture
def api_document(staff_b):
    response = signed_in(staff_b).get(f"{API_PREFIX}openapi.json")
    assert response.status_code == 200
    return response.json()


def _every_endpoint(api_document) -> list[Endpoint]:
    return _console_endpoints() + _api_endpoints(api_document)


def _variants(endpoint: Endpoint) -> list[tuple[str, ...]]:
    """Which parameters name the other community's row: all of them, and with several each one alone."""
    parameters = endpoint.parameters
    if len(parameters) == 1:
        return [tuple(parameters)]
    return [tuple(parameters)] + [(parameter,) for parameter in parameters]


def _ids(endpoint: Endpoint, foreign: tuple[str, ...], rows_a, rows_b) -> dict:
    return {parameter: ROWS[endpoint.key_of(parameter)](rows_a if parameter in foreign else rows_b)
            for parameter in endpoint.parameters}


def _unmapped(endpoint: Endpoint) -> list[str]:
    return [parameter for parameter in endpoint.parameters if endpoint.key_of(parameter) not in ROWS]


def _is_open_by_design(endpoint: Endpoint) -> bool:
    return any(endpoint.path.startswith(path) for path in OPEN_BY_DESIGN)


def test_every_url_that_takes_an_id_answers_404_to_an_outsider(subtests, staff_b, grid_member_b, rows_a, rows_b,
                                                               api_document):
    components = api_document["components"]["schemas"]
    outsiders = {"community staff of B": signed_in(staff_b), "grid member of B": signed_in(grid_member_b)}
    for endpoint in _every_endpoint(api_document):
        if _is_open_by_design(endpoint):
            continue
        unmapped = _unmapped(endpoint)
        with subtests.test(endpoint.path):
            assert not unmapped, (f"{endpoint.path}: no row for {', '.join(unmapped)}: add "
                                  f"{', '.join(repr(endpoint.key_of(p)) for p in unmapped)} to ROWS")
        if unmapped:
            continue
        for method in endpoint.methods:
            for foreign in _variants(endpoint):
                label = f"{method.upper()} {endpoint.path} naming A's {', '.join(foreign)}"
                with subtests.test(label):
                    _check_outsiders(endpoint, method, outsiders, _ids(endpoint, foreign, rows_a, rows_b),
                                     _ids(endpoint, (), rows_a, rows_b), components)


def _check_outsiders(endpoint, method, outsiders, foreign_ids, own_ids, components):
    refused = {}
    for who, client in outsiders.items():
        answer = _ask(client, endpoint, method, foreign_ids, components)
        if _is_path_not_found(endpoint, answer):
            continue
        assert answer.status_code in (403, 405), (
            f"{method.upper()} {endpoint.path.format(**foreign_ids)} answered {answer.status_code} to {who}: "
            f"{answer.content[:300]!r}")
        own = _ask(client, endpoint, method, own_ids, components)
        assert own.status_code == answer.status_code, (
            f"{method.upper()} {endpoint.path}: {who} gets {answer.status_code} for A's row but {own.status_code} "
            "for their own: the refusal depends on the row, so it reveals the row exists")
        refused[who] = answer.status_code
    assert len(refused) < len(outsiders) or set(refused.values()) == {405}, (
        f"{method.upper()} {endpoint.path}: every outsider was refused ({refused}), so no lookup was tried")
    own = _ask(outsiders["community staff of B"], endpoint, method, own_ids, components)
    assert not _is_path_not_found(endpoint, own), (
        f"{method.upper()} {endpoint.path.format(**own_ids)} answers 404 for B's own rows too: "
        "the request never reaches the lookup it means to test")


def test_every_api_route_is_in_the_openapi_document(api_document):
    assert _api_routes_missing_from(api_document) == set()


def test_the_tables_name_only_urls_that_exist(api_document):
    keys = {endpoint.key_of(parameter) for endpoint in _every_endpoint(api_document)
            for parameter in endpoint.parameters}
    paths = {endpoint.path for endpoint in _every_endpoint(api_document)} | set(_django_routes())
    assert set(ROWS) - keys == set()
    assert {path for path in OPEN_BY_DESIGN if not any(p.startswith(path) for p in paths)} == set()


def test_the_walk_finds_the_console_and_the_api(api_document):
    paths = {endpoint.path for endpoint in _every_endpoint(api_document)}
    assert {"/people/{pk}/", "/testing/rounds/{pk}/scan/tubes/{tube_pk}/add/", "/api/v1/persons/{person_id}",
            "/api/v1/tubes/{barcode}/results"} <= paths
