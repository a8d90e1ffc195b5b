"""API schemas of mass testing."""

import datetime
import uuid

from ninja import Field, Schema
from pydantic import BaseModel

from fangkong.core.converters import Id
from fangkong.core.schemas import JobProgressOut
from fangkong.people.schemas import MaskedIdNumber, MaskedPhone

# ---------------------------------------------------------------------------
# Rounds, sites and exemptions
# ---------------------------------------------------------------------------

class TestRoundIn(Schema):
    __test__ = False

    community_id: Id
    name: str = Field(max_length=100)
    on: datetime.date
    kind: str = "everyone"
    pool_size: int = 10
    grid_ids: list[Id] = []
    zone_id: Id | None = None
    key_tags: list[str] = []
    infant_months: int = 36
    exempt_away: bool = True
    exempt_in_hospital: bool = True
    exempt_positive: bool = True


class TestRoundOut(Schema):
    __test__ = False

    id: int
    community_id: int
    name: str
    on: datetime.date
    kind: str
    pool_size: int
    grid_ids: list[int]
    zone_id: int | None
    key_tags: list[str]
    infant_months: int
    exempt_away: bool
    exempt_in_hospital: bool
    exempt_positive: bool
    status: str

    @staticmethod
    def resolve_grid_ids(obj) -> list[int]:
        return sorted(grid.pk for grid in obj.grids.all())


class ExemptionIn(Schema):
    person_id: Id
    reason: str
    note: str = Field("", max_length=200)


class ExemptionOut(Schema):
    id: int
    round_id: int
    person_id: int
    person_name: str
    reason: str
    note: str
    created_at: datetime.datetime

    @staticmethod
    def resolve_person_name(obj) -> str:
        return obj.person.name


class SamplingSiteIn(Schema):
    community_id: Id
    name: str = Field(max_length=100)
    kind: str = "fixed"
    address: str = Field("", max_length=200)
    opens_at: datetime.time | None = None
    closes_at: datetime.time | None = None
    team_ids: list[Id] = []
    roster_household_ids: list[Id] = []


class SamplingSiteOut(Schema):
    id: int
    community_id: int
    name: str
    kind: str
    address: str
    opens_at: datetime.time | None
    closes_at: datetime.time | None
    active: bool
    team_ids: list[int]
    roster_household_ids: list[int]

    @staticmethod
    def resolve_team_ids(obj) -> list[int]:
        return sorted(user.pk for user in obj.team.all())

    @staticmethod
    def resolve_roster_household_ids(obj) -> list[int]:
        return sorted(household.pk for household in obj.roster.all())


class PersonalCodeOut(Schema):
    person_id: int
    code: str


# ---------------------------------------------------------------------------
# Sampling
# ---------------------------------------------------------------------------

class TubeOpenIn(Schema):
    round_id: Id
    site_id: Id
    barcode: str = Field(max_length=60)


class TubeOut(Schema):
    id: int
    barcode: str
    round_id: int
    site_id: int
    site_name: str = Field(alias="site.name")
    pool_size: int
    sample_count: int
    status: str
    result: str
    opened_at: datetime.datetime
    closed_at: datetime.datetime | None


class TubeSampleOut(Schema):
    id: int
    client_id: uuid.UUID
    person_id: int
    person_name: str = Field(alias="person.name")
    person_id_number: MaskedIdNumber
    taken_at: datetime.datetime
    door_to_door: bool
    resample: bool
    void: bool


class TubeDetailOut(TubeOut):
    samples: list[TubeSampleOut] = Field(alias="samples_list")


class SampleIn(BaseModel):
    """A plain pydantic model (see SampleRowIn): a site device sends one every second."""

    client_id: uuid.UUID
    round_id: Id
    site_id: Id
    tube: str = Field(max_length=60)
    code: str | None = Field(None, max_length=300)
    id_number: str | None = Field(None, max_length=40)
    person_id: Id | None = None
    taken_at: datetime.datetime | None = None
    door_to_door: bool = False


class SampleOut(BaseModel):
    """A plain pydantic model made by `of` (see SampleIn)."""

    id: int
    client_id: uuid.UUID
    round_id: int
    tube_id: int
    tube: str
    tube_status: str
    tube_sample_count: int
    site_id: int
    person_id: int
    person_name: str
    taken_at: datetime.datetime
    door_to_door: bool
    resample: bool

    @classmethod
    def of(cls, sample) -> "SampleOut":
        return cls(id=sample.pk, client_id=sample.client_id, round_id=sample.round_id, tube_id=sample.tube_id,
                   tube=sample.tube.barcode, tube_status=sample.tube.status, tube_sample_count=sample.tube.sample_count,
                   site_id=sample.site_id, person_id=sample.person_id, person_name=sample.person.name,
                   taken_at=sample.taken_at, door_to_door=sample.door_to_door, resample=sample.resample)


class SampleRowIn(BaseModel):
    """One row of a device's batch; the service checks each row and answers it on its own.

    A plain pydantic model, as is SampleRowOut: a batch has up to 2,000 rows, and Ninja's Schema
    (made to read Django models) costs four times as much per row.
    """

    client_id: str = Field(max_length=40)
    round_id: int
    site_id: int
    tube: str = Field(max_length=60)
    code: str | None = Field(None, max_length=300)
    id_number: str | None = Field(None, max_length=40)
    person_id: int | None = None
    taken_at: datetime.datetime | None = None
    door_to_door: bool = False


class SampleRowOut(BaseModel):
    client_id: str
    status: str
    message: str


# ---------------------------------------------------------------------------
# Lab results and positive tubes
# ---------------------------------------------------------------------------

class ResultImportOut(Schema):
    id: int
    community_id: int
    file_name: str
    rows: int
    positives: int
    unknown_tubes: list[str]
    imported_by: str | None = Field(None, alias="actor.username")
    created_at: datetime.datetime


class ResultImportJobOut(ResultImportOut, JobProgressOut):
    """A result file queued for the worker: poll it until `status` is done (with the counts) or failed
    (with the reason)."""

    total: int = Field(description="表头下的行数(读取后才知道)")
    rows_checked: int = Field(description="已校验行数(条码与已有结果比对)")
    rows_written: int = Field(description="已写入行数(阳性管在其单管复核、区域、病例处理完后计入)")
    error: str = Field(description="失败原因(文件有误时列出出错的行)")


class LabResultIn(Schema):
    barcode: str = Field(max_length=40)
    result: str = Field(description="negative / positive / invalid")
    reported_at: datetime.datetime
    lab: str = Field("", max_length=100)
    replaces_id: Id | None = Field(None, description="更正时必填:该管当前结果的 id")


class LabResultOut(Schema):
    id: int
    tube_id: int
    barcode: str = Field(alias="tube.barcode")
    result: str
    reported_at: datetime.datetime
    lab: str
    replaces_id: int | None
    source_id: int | None
    current: bool = False
    created_at: datetime.datetime

    @staticmethod
    def resolve_current(obj) -> bool:
        return not hasattr(obj, "replaced_by")


class ResampleTaskOut(Schema):
    id: int
    status: str
    round_id: int
    tube_barcode: str = Field(alias="tube.barcode")
    person_id: int
    person_name: str = Field(alias="person.name")
    phone: MaskedPhone
    household_id: int | None
    address: str = ""
    grid_id: int | None
    grid_name: str = ""
    created_at: datetime.datetime

    @staticmethod
    def resolve_address(obj) -> str:
        household = obj.household
        return f"{household.compound.name} {household.shorthand}" if household else ""

    @staticmethod
    def resolve_grid_name(obj) -> str:
        return obj.grid.name if obj.grid else ""


# ---------------------------------------------------------------------------
# Coverage and figures
# ---------------------------------------------------------------------------

class CoverageUnitOut(Schema):
    id: int
    name: str
    expected: int
    sampled: int
    untested: int


class CoverageBuildingOut(CoverageUnitOut):
    units: list[CoverageUnitOut] = Field(alias="children")


class CoverageGridOut(CoverageUnitOut):
    buildings: list[CoverageBuildingOut] = Field(alias="children")


class AntigenCountsOut(Schema):
    negative: int
    positive: int
    invalid: int


class CoverageOut(Schema):
    round_id: int
    expected: int
    sampled: int
    untested: int
    percent: int
    antigen: AntigenCountsOut
    left_out: dict[str, int] = Field(description="不计入应采的人数,按原因:infant 婴幼儿、away 外出、in_hospital 住院、"
                                                 "positive 阳性感染者、other 其他")
    grids: list[CoverageGridOut]


class UntestedOut(Schema):
    person_id: int = Field(alias="pk")
    name: str
    phone: str = Field(alias="masked_phone")
    household_id: int
    address: str = Field(alias="household.shorthand")
    building_id: int = Field(alias="household.building_id")
    grid_id: int = Field(alias="household.grid_id")


class SiteHoursOut(Schema):
    site_id: int = Field(alias="site.pk")
    site_name: str = Field(alias="site.name")
    counts: list[int]
    total: int


class TubeCountsOut(Schema):
    open: int
    closed: int
    resulted: int


class FiguresOut(Schema):
    hours: list[datetime.datetime]
    sites: list[SiteHoursOut]
    samples: int
    tubes: TubeCountsOut
    turnaround_median_minutes: int | None = Field(alias="median_minutes")
    turnaround_p90_minutes: int | None = Field(alias="p90_minutes")
    positive_tubes: int
    positive_people: int


class AntigenIn(Schema):
    person_id: Id
    result: str
    taken_at: datetime.datetime | None = None
    client_id: uuid.UUID | None = None
    round_id: Id | None = None


class AntigenOut(Schema):
    id: int
    person_id: int
    round_id: int | None
    result: str
    taken_at: datetime.datetime
    has_photo: bool
    client_id: uuid.UUID | None

    @staticmethod
    def resolve_has_photo(obj) -> bool:
        return bool(obj.photo)
