"""API shapes for following people."""

import datetime

from django.utils import timezone
from ninja import Field, Schema

from fangkong.core.converters import Id
from fangkong.core.masking import mask_id_number, mask_phone
from fangkong.people.models import IdType, Residency
from fangkong.people.schemas import MaskedPersonOut, MaskedPhone
from fangkong.screening.models import Anomaly, VisitMethod

# Follow-ups and the four colours

class FollowUpOut(Schema):
    id: int
    person_id: int
    person_name: str
    phone: MaskedPhone
    address: str = Field(description="地址简写 楼-单元-房号")
    grid_id: int | None
    risk_color: str = Field(description="四色标示:red / yellow / blue / green(人工调整后为调整值)")
    computed_color: str = Field(description="按事实计算的颜色")
    override_color: str = Field(description="人工调整的颜色,空表示未调整")
    override_reason: str
    reached: bool
    cooperating: bool
    verified: bool
    exposed: bool
    under_observation: bool
    left_community: bool
    reason: str = Field(description="跟踪原因")
    responsible_id: int | None
    next_visit_on: datetime.date | None
    last_contact_at: datetime.datetime | None
    closed_at: datetime.datetime | None

    @staticmethod
    def resolve_person_name(obj) -> str:
        return obj.person.name

    @staticmethod
    def resolve_address(obj) -> str:
        return obj.person.household.shorthand if obj.person.household_id else ""

    @staticmethod
    def resolve_grid_id(obj) -> int | None:
        return obj.person.household.grid_id if obj.person.household_id else None


class ColorChangeOut(Schema):
    from_color: str
    to_color: str
    reason: str
    overridden: bool
    changed_by: str | None = Field(None, description="操作人用户名")
    created_at: datetime.datetime

    @staticmethod
    def resolve_changed_by(obj) -> str | None:
        return obj.changed_by.username if obj.changed_by_id else None


class FollowUpDetailOut(FollowUpOut):
    history: list[ColorChangeOut]


class FollowUpContactIn(Schema):
    outcome: str = Field(description="door 上门见面 / phone 电话联系 / unreachable 未联系上")
    cooperating: bool | None = Field(None, description="是否配合;不填表示不变")
    verified: bool | None = Field(None, description="信息是否已核实;不填表示不变")
    left_community: bool | None = Field(None, description="是否已离开本辖区;不填表示不变")
    note: str = ""


class FollowUpOverrideIn(Schema):
    color: str = Field(description="red / yellow / blue / green;空字符串取消人工调整")
    reason: str = Field(description="调整原因(必填)")


class FollowUpAssignIn(Schema):
    responsible_id: Id | None = Field(None, description="责任人用户编号;null 取消指定")


class BoardRowOut(Schema):
    grid_id: int | None
    grid_name: str
    red: int
    yellow: int
    blue: int
    green: int
    total: int



# Risk areas and arrivals

class RiskAreaOut(Schema):
    id: int
    street_id: int
    division_code: str = Field(description="行政区划代码(GB/T 2260)")
    division_name: str = Field(description="地区全称")
    level: str = Field(description="风险等级:high 高 / medium 中 / low 低")
    valid_from: datetime.date = Field(description="起始日期")
    valid_to: datetime.date | None = Field(description="截止日期;null 表示尚未解除")
    note: str


class RiskAreaIn(Schema):
    street_id: Id | None = Field(None, description="街道;街道账号可省略")
    division_code: str = Field(description="行政区划代码,如 420106")
    level: str = Field("high", description="high / medium / low")
    valid_from: datetime.date
    valid_to: datetime.date | None = None
    note: str = ""


class RiskAreaEndIn(Schema):
    valid_to: datetime.date = Field(description="解除日期(含当天)")


class CompanionIn(Schema):
    name: str = Field(description="姓名")
    id_type: str = Field("resident_id", description="证件类型,默认居民身份证")
    id_number: str = Field(description="证件号码")
    relationship: str = Field("", description="与本人关系")
    phone: str = ""


class ArrivalIn(Schema):
    community_id: Id | None = Field(None, description="社区;给出 household_id 或 person_id 时可省略")
    household_id: Id | None = Field(None, description="居住的户")
    person_id: Id | None = Field(None, description="已登记的人员;不给则按证件号查找或新建")
    name: str = Field("", description="姓名(新登记时必填)")
    id_type: str = Field("resident_id", description="证件类型")
    id_number: str = Field("", description="证件号码")
    phone: str = ""
    origin_code: str = Field(description="来源地行政区划代码")
    arrived_on: datetime.date = Field(description="抵达日期,不能晚于今天")
    travel_mode: str = Field("car", description="train / flight / car / bus / other")
    travel_number: str = Field("", description="车次或航班号")
    plate: str = Field("", description="车牌号")
    companions: list[CompanionIn] = Field(default_factory=list, description="同行人,一次登记")
    notice_acknowledged: bool = Field(False, description="已签收告知书")
    commitment_signed: bool = Field(False, description="已签署承诺书")
    note: str = ""


class ArrivalOut(MaskedPersonOut):
    id: int
    community_id: int
    household_id: int | None
    address: str = Field(description="地址简写 楼-单元-房号")
    origin_code: str
    origin_name: str
    arrived_on: datetime.date
    travel_mode: str
    travel_number: str
    plate: str
    source: str = Field(description="self_report 本人申报 / staff 工作人员 / verification_list / screening")
    companion_of_id: int | None = Field(description="同行的主登记")
    exposed: bool = Field(description="来自风险地区(按抵达日期)")
    notice_acknowledged_at: datetime.datetime | None
    commitment_signed_at: datetime.datetime | None

    @staticmethod
    def resolve_address(obj) -> str:
        return obj.household.shorthand if obj.household_id else ""


class DivisionOut(Schema):
    code: str
    name: str
    full_name: str


# Verification lists

class VerificationBatchOut(Schema):
    """A list; `total` and `answered` count the rows in the caller's scope."""

    id: int
    title: str
    issued_by: str
    street_id: int
    community_id: int | None
    file_name: str
    columns: list[str]
    received_at: datetime.datetime
    deadline: datetime.datetime
    row_count: int
    total: int
    answered: int
    overdue: bool

    @staticmethod
    def resolve_overdue(obj) -> bool:
        return obj.deadline < timezone.now() and obj.answered < obj.total


class VerificationItemOut(Schema):
    """One row; its ID number and phone masked (the received cells go out only in the audited export)."""

    id: int
    batch_id: int
    line: int
    name: str
    id_number: str
    phone: str
    origin: str
    reason: str
    person_id: int | None
    match_kind: str
    match_label: str
    community_id: int | None
    grid_id: int | None
    answer: str
    answer_note: str
    answered_by: str
    answered_at: datetime.datetime | None

    @staticmethod
    def resolve_id_number(obj) -> str:
        return mask_id_number(obj.id_number)

    @staticmethod
    def resolve_phone(obj) -> str:
        return mask_phone(obj.phone)

    @staticmethod
    def resolve_match_label(obj) -> str:
        return obj.get_match_kind_display()

    @staticmethod
    def resolve_answered_by(obj) -> str:
        return str(obj.answered_by) if obj.answered_by_id else ""


class VerificationAnswerIn(Schema):
    answer: str = Field(description="present_verified 在本辖区已核实 / left 已离开 / not_found 查无此人"
                                    " / controlled 已落实管控")
    note: str = Field("", max_length=300)



# Screening rounds

class RoundIn(Schema):
    community_id: Id
    name: str = Field("", max_length=100)
    grid_ids: list[Id] = []


class RoundOut(Schema):
    id: int
    community_id: int
    name: str
    number: int
    started_at: datetime.datetime
    closed_at: datetime.datetime | None
    grid_ids: list[int]

    @staticmethod
    def resolve_grid_ids(obj):
        return [grid.pk for grid in obj.grids.all()]


class GridProgressOut(Schema):
    grid_id: int | None
    grid_name: str
    total: int
    done: int
    not_reached: int
    pending: int

    @staticmethod
    def resolve_grid_id(obj):
        return obj.grid.pk if obj.grid else None

    @staticmethod
    def resolve_grid_name(obj):
        return obj.grid.name if obj.grid else ""


class RoundDetailOut(RoundOut):
    progress: list[GridProgressOut]
    totals: GridProgressOut


class NewPersonIn(Schema):
    name: str = Field(max_length=50)
    id_type: IdType = IdType.RESIDENT_ID
    id_number: str = Field(max_length=30)
    phone: str = Field("", max_length=20)
    relationship: str = Field("", max_length=20)
    residency: Residency = Residency.RESIDENT


class VisitIn(Schema):
    household_id: Id
    method: VisitMethod
    people_present: int | None = Field(None, ge=0, le=99)
    anomalies: list[Anomaly] = []
    note: str = Field("", max_length=300)
    new_persons: list[NewPersonIn] = Field([], max_length=20)
    visited_at: datetime.datetime | None = None


class VisitOut(Schema):
    id: int
    round_id: int
    household_id: int
    method: str
    pass_number: int
    people_present: int | None
    anomalies: list[str]
    note: str
    visited_at: datetime.datetime
    visited_by: str | None

    @staticmethod
    def resolve_visited_by(obj):
        return obj.visited_by.username if obj.visited_by_id else None


class RoundHouseholdOut(Schema):
    id: int
    address: str
    compound: str
    grid_id: int
    member_count: int
    status: str
    latest_method: str
    latest_pass: int | None
    latest_at: datetime.datetime | None

    @staticmethod
    def resolve_address(obj):
        return obj.shorthand

    @staticmethod
    def resolve_compound(obj):
        return obj.compound.name

    @staticmethod
    def resolve_status(obj):
        return {"door": "done", "phone": "done", "not_reached": "not_reached"}.get(obj.latest_method, "pending")
