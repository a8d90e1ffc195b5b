"""Request and response bodies of the checkpoint, pass, passage and tracing API.

A scan and a scanner's batch are plain pydantic models, as sample registration's are: a gate sends a
scan every second, a batch after an outage has up to 10,000 rows, and Ninja's Schema (made to read
Django models) costs several times as much per row.
"""

import datetime
import uuid
from decimal import Decimal

from ninja import Field, Schema
from pydantic import BaseModel

from fangkong.access.models import Reason, Result
from fangkong.core.converters import Id

# ---------------------------------------------------------------------------
# Checkpoints and passes
# ---------------------------------------------------------------------------


class CheckpointOut(Schema):
    id: int
    community_id: int
    compound_id: int | None
    name: str
    place: str
    direction: str = Field(description="in 只进 / out 只出 / both 进出")
    opens_at: datetime.time | None
    closes_at: datetime.time | None
    post_id: int | None = Field(description="值守岗位")
    pass_required: bool = Field(description="出门须持出入证(封闭管理)")
    visitors_admitted: bool
    test_within_hours: int | None = Field(description="出门须有几小时内的核酸阴性结果")
    active: bool

    @staticmethod
    def resolve_place(obj) -> str:
        return obj.place_label


class CheckpointIn(Schema):
    community_id: Id
    name: str = Field(max_length=100)
    compound_id: Id | None = None
    direction: str = Field("both", max_length=10)
    opens_at: datetime.time | None = None
    closes_at: datetime.time | None = None
    post_id: Id | None = None
    pass_required: bool = False
    visitors_admitted: bool = True
    test_within_hours: int | None = None


class CheckpointUpdate(Schema):
    name: str = Field(max_length=100)
    compound_id: Id | None = None
    direction: str = Field("both", max_length=10)
    opens_at: datetime.time | None = None
    closes_at: datetime.time | None = None
    post_id: Id | None = None
    pass_required: bool = False
    visitors_admitted: bool = True
    test_within_hours: int | None = None
    active: bool = True


class PassOut(Schema):
    id: int
    number: str
    community_id: int
    household_id: int | None
    person_id: int | None
    holder: str = Field(description="持证人姓名,或户的地址")
    kind: str = Field(description="shopping 采购 / work 上班 / medical 就医 / volunteer 志愿服务")
    valid_from: datetime.datetime
    valid_until: datetime.datetime
    quota_exits: int | None
    quota_days: int | None
    note: str
    revoked_at: datetime.datetime | None
    revoke_reason: str

    @staticmethod
    def resolve_holder(obj) -> str:
        return obj.person.name if obj.person_id else str(obj.household)


class PassDetailOut(PassOut):
    quota_used: int = Field(0, description="本期已外出次数")
    quota_left: int | None = Field(None, description="本期剩余次数(无限额为空)")
    period_start: datetime.datetime | None = None
    period_end: datetime.datetime | None = None

    @staticmethod
    def resolve_quota_used(obj) -> int:
        return obj.quota.used

    @staticmethod
    def resolve_quota_left(obj) -> int | None:
        return obj.quota.left

    @staticmethod
    def resolve_period_start(obj):
        return obj.quota.period_start

    @staticmethod
    def resolve_period_end(obj):
        return obj.quota.period_end


class PassIn(Schema):
    kind: str = Field(max_length=12)
    person_id: Id | None = None
    household_id: Id | None = None
    valid_from: datetime.datetime | None = None
    valid_until: datetime.datetime
    quota_exits: int | None = Field(None, description="每期可外出次数 1–50;与 quota_days 同填或都不填")
    quota_days: int | None = Field(None, description="每期天数 1–60")
    note: str = Field("", max_length=200)


class RevokeIn(Schema):
    reason: str = Field(max_length=200)


# ---------------------------------------------------------------------------
# Passages
# ---------------------------------------------------------------------------


class VisitorIn(BaseModel):
    name: str = Field(max_length=50)
    phone: str = Field(max_length=20)
    id_number: str = Field("", max_length=30)
    reason: str = Field("", max_length=100)


class PassageIn(BaseModel):
    client_id: uuid.UUID
    checkpoint_id: Id
    direction: str = Field(max_length=3, description="in 进 / out 出")
    code: str | None = Field(None, max_length=300, description="个人码、出入证码或 18 位身份证号")
    visitor: VisitorIn | None = Field(None, description="无码访客:姓名、手机号、证件号、事由")
    plate: str = Field("", max_length=20)
    temperature: Decimal | None = Field(None, max_digits=4, decimal_places=1)
    occurred_at: datetime.datetime | None = Field(None, description="不填为服务器当前时间;不得晚于现在 10 分钟以上")
    medical_need: str = Field("", max_length=14, description="封控/管控区人员就医外出:dialysis / chemotherapy / "
                                                              "childbirth / emergency / medicine / other")
    medical_note: str = Field("", max_length=300)


class PassageOut(BaseModel):
    id: int
    client_id: uuid.UUID
    checkpoint_id: int
    direction: str
    occurred_at: datetime.datetime
    result: str = Field(description="allowed 放行 / refused 不予通行 / persuaded_back 劝返")
    reason: str
    reason_label: str
    message: str
    person_id: int | None
    person_name: str
    household_id: int | None
    pass_id: int | None
    quota_used: int | None = None
    quota_total: int | None = None
    visitor_name: str
    visitor_phone: str = Field(description="打码")
    visitor_id_number: str = Field(description="打码")
    visitor_reason: str
    plate: str
    temperature: Decimal | None
    self_scan: bool
    offline: bool
    conflict: bool
    conflict_note: str
    replayed: bool = False

    @classmethod
    def of(cls, passage, *, message: str = "", person_name: str | None = None, quota_used=None, quota_total=None,
           replayed: bool = False) -> "PassageOut":
        label = str(Reason(passage.reason).label) if passage.reason else ""
        if not message:
            message = f"{Result(passage.result).label}" + (f" · {label}" if label else "")
        if person_name is None:
            person_name = passage.person.name if passage.person_id else ""
        return cls(id=passage.pk, client_id=passage.client_id, checkpoint_id=passage.checkpoint_id,
                   direction=passage.direction, occurred_at=passage.occurred_at, result=passage.result,
                   reason=passage.reason, reason_label=label, message=message, person_id=passage.person_id,
                   person_name=person_name, household_id=passage.household_id, pass_id=passage.used_pass_id,
                   quota_used=quota_used, quota_total=quota_total, visitor_name=passage.visitor_name,
                   visitor_phone=passage.masked_visitor_phone, visitor_id_number=passage.masked_visitor_id_number,
                   visitor_reason=passage.visitor_reason, plate=passage.plate, temperature=passage.temperature,
                   self_scan=passage.self_scan, offline=passage.offline, conflict=passage.conflict,
                   conflict_note=passage.conflict_note, replayed=replayed)

    @classmethod
    def of_registered(cls, registered) -> "PassageOut":
        decision = registered.decision
        return cls.of(registered.passage, message=registered.message, person_name=registered.person_name,
                      quota_used=decision.quota_used, quota_total=decision.quota_total, replayed=registered.replayed)


class PassageRowIn(BaseModel):
    """One row of a scanner's batch; the service checks each row and answers it on its own, so the types
    are loose here (a bad value is that row's answer, not the batch's)."""

    client_id: str = Field(max_length=40)
    checkpoint_id: int | str | None = None
    direction: str = Field("", max_length=10)
    code: str | None = Field(None, max_length=300)
    visitor: dict | None = None
    plate: str | None = Field(None, max_length=20)
    temperature: str | float | None = None
    occurred_at: str | None = Field(None, max_length=40)
    offline: bool = True
    offline_result: str = Field("", max_length=20,
                                description="扫码设备离线时的判定:allowed / refused / persuaded_back")


class PassageRowOut(BaseModel):
    client_id: str
    status: str = Field(
        description="stored 已保存 / duplicate 已保存过 / conflict 已保存但与服务器判定不同 / invalid 未保存")
    message: str
    result: str
    reason: str
    conflict_note: str


# ---------------------------------------------------------------------------
# Tracing and figures
# ---------------------------------------------------------------------------


class TraceWindowOut(Schema):
    passage_id: int
    checkpoint_id: int
    checkpoint: str
    direction: str
    occurred_at: datetime.datetime
    others: int = Field(description="同一卡口前后 N 分钟内通行的其他人数")
    people: int
    visitors: int

    @staticmethod
    def resolve_passage_id(obj) -> int:
        return obj.passage.pk

    @staticmethod
    def resolve_checkpoint_id(obj) -> int:
        return obj.passage.checkpoint_id

    @staticmethod
    def resolve_checkpoint(obj) -> str:
        return obj.passage.checkpoint.name

    @staticmethod
    def resolve_direction(obj) -> str:
        return obj.passage.direction

    @staticmethod
    def resolve_occurred_at(obj):
        return obj.passage.occurred_at


class TracedContactOut(Schema):
    key: str = Field(description="p<人员编号> 或 v<访客手机号>,添加密接时使用")
    person_id: int | None
    name: str
    phone: str = Field(description="打码")
    overlaps: int = Field(description="与被追踪者同时段通行的次数")
    nearest_minutes: float
    last_at: datetime.datetime = Field(description="末次同时段通行时间(末次接触)")
    checkpoints: list[str]

    @staticmethod
    def resolve_person_id(obj) -> int | None:
        return obj.person.pk if obj.person is not None else None

    @staticmethod
    def resolve_phone(obj) -> str:
        return obj.masked_phone

    @staticmethod
    def resolve_checkpoints(obj) -> list[str]:
        return sorted(obj.checkpoints)


class TraceOut(Schema):
    person_id: int
    start: datetime.datetime
    end: datetime.datetime
    minutes: int
    passages: list[TraceWindowOut]
    contacts: list[TracedContactOut]
    people: int
    visitors: int


class TraceContactsIn(Schema):
    person_id: Id = Field(description="被追踪者(病例本人)")
    case_id: Id
    start: datetime.datetime | None = None
    end: datetime.datetime | None = None
    minutes: int = 30
    keys: list[str] = Field(description="追踪结果中要添加为密接的 key")


class TraceContactsOut(Schema):
    added: int
    contact_ids: list[int]
    left_out: list[str] = Field(description="无证件号的访客,未能登记为密接")


class GateHoursOut(Schema):
    checkpoint_id: int
    checkpoint: str
    counts: list[int]
    total: int


class ReasonCountOut(Schema):
    result: str
    reason: str
    label: str
    count: int


class PassageFiguresOut(Schema):
    day: datetime.date
    hours: list[datetime.datetime]
    gates: list[GateHoursOut]
    total: int
    results: dict[str, int]
    reasons: list[ReasonCountOut]
    visitors: int
    vehicles: int = Field(description="登记车牌的通行次数")
    plates: int = Field(description="不同车牌数")
    offline: int
    conflicts: int
