"""API shapes of observations, health checks, alerts and policies; phones masked."""

import datetime
import uuid
from decimal import Decimal

from ninja import Field, Schema

from fangkong.core.choices import Choice
from fangkong.core.converters import Id
from fangkong.core.masking import mask_phone
from fangkong.health.models import (
    Case,
    CheckWindow,
    Contact,
    ContactKind,
    Destination,
    ObservationKind,
    ObservationReason,
    Reporter,
    Symptom,
)
from fangkong.people.models import IdType
from fangkong.people.schemas import MaskedIdNumber, MaskedPersonOut


class ObservationOut(Schema):
    id: int
    person_id: int
    person_name: str = Field(alias="person.name")
    community_id: int
    household_id: int | None
    kind: str
    reason: str
    reason_note: str
    starts_on: datetime.date
    planned_end_on: datetime.date
    status: str
    ended_on: datetime.date | None
    end_reason: str
    site: str
    transferred_to_id: int | None
    cadre_id: int | None
    medic_id: int | None
    police_id: int | None
    volunteer_id: int | None
    family_contact_name: str
    family_contact_phone: str
    open_alerts: int = 0

    @staticmethod
    def resolve_family_contact_phone(obj) -> str:
        return mask_phone(obj.family_contact_phone)


class ObservationDetailOut(ObservationOut):
    missed_checks: int
    days_left: int


class TeamIn(Schema):
    cadre_id: Id | None = None
    medic_id: Id | None = None
    police_id: Id | None = None
    volunteer_id: Id | None = None
    family_contact_name: str = Field("", max_length=50)
    family_contact_phone: str = Field("", max_length=20)


class ObservationIn(TeamIn):
    person_id: Id
    kind: ObservationKind
    reason: ObservationReason
    reason_note: str = Field("", max_length=200)
    starts_on: datetime.date | None = Field(None, description="默认今天;最晚明天")
    planned_end_on: datetime.date | None = Field(None, description="默认按隔离政策计算")
    site: str = Field("", max_length=100)


class ExtendIn(Schema):
    days: int | None = Field(None, ge=1, le=60)
    until: datetime.date | None = None
    reason: str = Field(max_length=200)


class ReleaseIn(Schema):
    on: datetime.date | None = None
    early: bool = False
    reason: str = Field("", max_length=200)


class EndEarlyIn(Schema):
    reason: str = Field(max_length=200)


class TransferIn(Schema):
    site: str = Field(max_length=100)


class CheckIn(Schema):
    temperature: Decimal = Field(description="34.0–42.0 ℃")
    symptoms: list[Symptom] = []
    reporter: Reporter = Field(Reporter.STAFF_PHONE, description="居民填报时固定为 self")
    taken_at: datetime.datetime | None = None
    client_id: uuid.UUID | None = Field(None, description="客户端生成;同一 client_id 只记录一次")


class CheckOut(Schema):
    id: int
    observation_id: int
    person_id: int
    taken_at: datetime.datetime
    day: datetime.date
    window: CheckWindow
    temperature: Decimal
    symptoms: list[str]
    reporter: str
    abnormal: bool
    client_id: uuid.UUID | None


class PendingOut(Schema):
    observation_id: int = Field(alias="id")
    person_id: int
    person_name: str = Field(alias="person.name")
    household_id: int | None
    address: str

    @staticmethod
    def resolve_address(obj) -> str:
        return obj.household.shorthand if obj.household_id else obj.site


class AlertOut(Schema):
    id: int
    observation_id: int
    person_name: str = Field(alias="observation.person.name")
    check_id: int = Field(alias="check_record_id")
    reason: str
    created_at: datetime.datetime
    handled_by_id: int | None
    handled_at: datetime.datetime | None
    handling_note: str


class AlertHandleIn(Schema):
    note: str = Field(max_length=300)


class PolicyIn(Schema):
    street_id: Id | None = Field(None, description="默认为本人负责的街道")
    kind: ObservationKind
    days: int = Field(ge=1, le=60)
    effective_from: datetime.date


class PolicyOut(Schema):
    id: int
    street_id: int
    kind: str
    days: int
    effective_from: datetime.date


# ---------------------------------------------------------------------------
# Cases and contacts
# ---------------------------------------------------------------------------

class CaseIn(Schema):
    person_id: Id
    source: Choice[Case.Source]
    confirmed_at: datetime.datetime = Field(description="不能晚于现在")
    severity: Choice[Case.Severity] = Case.Severity.ASYMPTOMATIC
    location: str = Field("", max_length=100)
    source_ref: str = Field("", max_length=100)
    note: str = Field("", max_length=300)


class CaseOut(Schema):
    id: int
    person_id: int
    person_name: str = Field(alias="person.name")
    id_number: MaskedIdNumber
    community_id: int
    household_id: int | None
    source: str
    source_ref: str
    confirmed_at: datetime.datetime
    severity: str
    status: str
    location: str
    note: str
    closed_at: datetime.datetime | None
    contact_count: int = 0


class CaseEventOut(Schema):
    kind: str
    note: str
    by_id: int | None
    created_at: datetime.datetime


class CaseDetailOut(CaseOut):
    timeline: list[CaseEventOut]
    zone_ids: list[int]
    transfer_ids: list[int]


class CaseStatusIn(Schema):
    status: Choice[Case.Status]
    location: str = Field("", max_length=100)
    note: str = Field("", max_length=200)


class CaseSeverityIn(Schema):
    severity: Choice[Case.Severity]
    note: str = Field("", max_length=200)


class ContactIn(Schema):
    """A registered person by `person_id`, or a new one by name and document (found first by the document)."""

    person_id: Id | None = None
    name: str = Field("", max_length=50)
    id_type: IdType = IdType.RESIDENT_ID
    id_number: str = Field("", max_length=30)
    phone: str = Field("", max_length=20)
    kind: ContactKind
    source: Choice[Contact.Source] = Contact.Source.MANUAL
    last_exposure_at: datetime.datetime
    via_id: Id | None = Field(None, description="次密接必填:本病例的一名密接")
    note: str = Field("", max_length=200)


class ContactOut(MaskedPersonOut):
    id: int
    case_id: int
    kind: str
    source: str
    last_exposure_at: datetime.datetime
    via_id: int | None
    observation_id: int | None
    observation_kind: str | None = None
    observation_status: str | None = None
    status: str
    note: str

    @staticmethod
    def resolve_observation_kind(obj) -> str | None:
        return obj.observation.kind if obj.observation_id else None

    @staticmethod
    def resolve_observation_status(obj) -> str | None:
        return obj.observation.status if obj.observation_id else None


class ContactRemoveIn(Schema):
    reason: str = Field(max_length=200)


class ContactPolicyIn(Schema):
    street_id: Id | None = Field(None, description="默认为本人负责的街道")
    kind: ContactKind
    observation_kind: ObservationKind


class ContactPolicyOut(Schema):
    street_id: int
    kind: str
    observation_kind: str
    is_default: bool


# ---------------------------------------------------------------------------
# Transfers
# ---------------------------------------------------------------------------

class DestinationIn(Schema):
    street_id: Id | None = Field(None, description="默认为本人负责的街道")
    name: str = Field(max_length=100)
    kind: Choice[Destination.Kind]
    address: str = Field("", max_length=200)
    phone: str = Field("", max_length=20)
    capacity: int | None = Field(None, ge=0, le=100_000)


class DestinationOut(Schema):
    id: int
    street_id: int
    name: str
    kind: str
    address: str
    phone: str
    capacity: int | None
    active: bool
    expected: int = 0
    arrived: int = 0


class PassengerOut(MaskedPersonOut):
    household_id: int | None
    address: str
    case_id: int | None
    contact_id: int | None

    @staticmethod
    def resolve_address(obj) -> str:
        return f"{obj.household.compound.name} {obj.household.shorthand}" if obj.household_id else ""


class TransferOut(Schema):
    id: int
    community_id: int
    destination_kind: str
    destination_id: int | None
    case_id: int | None
    vehicle: str
    crew: str
    window_start: datetime.datetime
    window_end: datetime.datetime
    status: str
    picked_up_at: datetime.datetime | None
    arrived_at: datetime.datetime | None
    note: str
    passengers: list[PassengerOut]

    @staticmethod
    def resolve_passengers(obj) -> list:
        return list(obj.passengers.all())


class TransferScheduleIn(Schema):
    destination_kind: Choice[Destination.Kind]
    person_ids: list[Id] = Field(min_length=1, max_length=200)
    window_start: datetime.datetime
    window_end: datetime.datetime
    destination_id: Id | None = None
    vehicle: str = Field("", max_length=50)
    crew: str = Field("", max_length=100)
    note: str = Field("", max_length=300)


class TransferUpdateIn(Schema):
    destination_id: Id | None = None
    window_start: datetime.datetime | None = None
    window_end: datetime.datetime | None = None
    vehicle: str | None = Field(None, max_length=50)
    crew: str | None = Field(None, max_length=100)
    note: str | None = Field(None, max_length=300)


class TransferMomentIn(Schema):
    at: datetime.datetime | None = Field(None, description="默认现在")


class TransferCancelIn(Schema):
    reason: str = Field(max_length=200)


class RosterRowOut(PassengerOut):
    transfer_id: int
    status: str = Field(alias="transfer.status")
    window_start: datetime.datetime = Field(alias="transfer.window_start")
    picked_up_at: datetime.datetime | None = Field(alias="transfer.picked_up_at")
    arrived_at: datetime.datetime | None = Field(alias="transfer.arrived_at")


class DayCountOut(Schema):
    day: datetime.date
    planned: int
    picked_up: int
    arrived: int
