"""API schemas of zones and care."""

import datetime

from django.utils import timezone
from ninja import Field, Schema

from fangkong.core.converters import Id
from fangkong.people.schemas import MaskedIdNumber, MaskedPhone
from fangkong.zones.models import Level, PlaceKind, Zone
from fangkong.zones.unlock import stored_status

# ---------------------------------------------------------------------------
# Zones and their unlock dates
# ---------------------------------------------------------------------------

class ZoneOut(Schema):
    id: int
    community_id: int
    level: str = Field(description="sealed 封控区 / controlled 管控区 / precaution 防范区")
    status: str = Field(description="proposed 待确认 / active 生效中 / lifted 已解封 / dismissed 未采纳"
                                    " / superseded 已调整")
    place_kind: str
    place_label: str
    compound_id: int
    building_id: int | None
    unit_id: int | None
    household_id: int | None
    reason: str
    rules: str
    guarded: bool
    started_at: datetime.datetime | None
    ended_at: datetime.datetime | None
    lifted_by_override: bool
    supersedes_id: int | None
    last_positive_on: datetime.date | None = Field(description="倒计时起算日:末例阳性,无阳性则为生效日")
    unlock_on: datetime.date | None
    negative_rounds_done: int
    rounds_needed: int = 0
    days_left: int | None = None
    may_unlock: bool = False

    @staticmethod
    def resolve_days_left(obj) -> int | None:
        status = stored_status(obj)
        return status.days_left(timezone.localdate()) if status else None

    @staticmethod
    def resolve_may_unlock(obj) -> bool:
        status = stored_status(obj)
        return obj.status == Zone.Status.ACTIVE and status is not None and status.met(timezone.localdate())


class ZoneEventOut(Schema):
    kind: str
    note: str
    unlock_on: datetime.date | None
    by: str
    created_at: datetime.datetime

    @staticmethod
    def resolve_by(obj) -> str:
        return obj.by.get_username() if obj.by else ""


class ZoneRoundOut(Schema):
    id: int
    on: datetime.date
    negative: bool
    note: str


class ZoneDetailOut(ZoneOut):
    case_ids: list[int]
    superseded_by_id: int | None
    households: int
    people: int
    rounds: list[ZoneRoundOut]
    history: list[ZoneEventOut]


class ZoneDrawIn(Schema):
    level: Level
    place_kind: PlaceKind = Field(description="household 户 / unit 单元 / building 楼栋 / compound 小区")
    place_id: Id
    reason: str = Field(max_length=300)
    rules: str = Field("", max_length=2000)
    guarded: bool = False
    override_reason: str = Field("", max_length=300, description="已有同级或更严格区域时的强制操作原因")


class ZoneAcceptIn(Schema):
    guarded: bool = False
    rules: str = Field("", max_length=2000)


class ZoneDismissIn(Schema):
    reason: str = Field(max_length=300)


class ZoneChangeIn(Schema):
    reason: str = Field(max_length=300)
    level: Level | None = None
    place_kind: PlaceKind | None = None
    place_id: Id | None = None
    override_reason: str = Field("", max_length=300)


class ZoneLiftIn(Schema):
    note: str = Field("", max_length=300)
    override_reason: str = Field("", max_length=300, description="未达解封条件时强制解封的原因")


class ZoneRoundIn(Schema):
    on: datetime.date
    negative: bool
    note: str = Field("", max_length=200)


class ZonePolicyIn(Schema):
    level: Level
    days_without_positive: int = Field(ge=1, le=60)
    negative_rounds: int = Field(ge=0, le=30)
    effective_from: datetime.date


class ZonePolicyOut(Schema):
    id: int
    street_id: int
    level: str
    days_without_positive: int
    negative_rounds: int
    effective_from: datetime.date


class MovementZoneOut(Schema):
    id: int
    level: str
    status: str
    place_label: str
    unlock_on: datetime.date | None


class MovementExceptionOut(Schema):
    need: str
    destination: str
    valid_on: datetime.date


class MovementOut(Schema):
    person_id: int
    movement: str = Field(description="sealed 足不出户 / controlled 人不出区 / precaution 限制聚集 / free 正常通行")
    label: str
    zone_id: int | None
    zones: list[MovementZoneOut]
    exception: MovementExceptionOut | None


# ---------------------------------------------------------------------------
# Care inside zones
# ---------------------------------------------------------------------------


class CareCheckOut(Schema):
    id: int
    task_id: int
    day: datetime.date = Field(description="日期")
    outcome: str = Field(description="well 情况正常 / needs_help 需要帮助 / not_reached 未联系上")
    note: str
    checked_by: str = Field(description="查看人")
    checked_at: datetime.datetime

    @staticmethod
    def resolve_checked_by(obj) -> str:
        return str(obj.checked_by or "")


def _day_check(task):
    return task.day_checks[0] if task is not None and task.day_checks else None


class CareTaskOut(Schema):
    id: int
    zone_id: int
    person_id: int
    person_name: str
    address: str = Field(description="楼-单元-房号")
    needs: list[str] = Field(description="重点情况(dialysis、pregnant …)")
    assignee: str = Field(description="责任人")
    today: CareCheckOut | None = Field(description="今天的查看记录,尚未查看为 null")

    @staticmethod
    def resolve_person_name(obj) -> str:
        return obj.person.name

    @staticmethod
    def resolve_address(obj) -> str:
        return obj.household.shorthand if obj.household_id else ""

    @staticmethod
    def resolve_assignee(obj) -> str:
        return str(obj.assignee or "")

    @staticmethod
    def resolve_today(obj):
        return _day_check(obj)


class ZonePersonOut(Schema):
    """One person inside a zone; ID number and phone masked."""

    id: int
    name: str
    id_number: MaskedIdNumber
    phone: MaskedPhone
    tags: list[str] = Field(description="重点人群标签")
    needs: list[str] = Field(description="需要每日关照的标签")
    task_id: int | None = Field(description="每日关照任务")
    today: CareCheckOut | None = Field(description="今天的查看记录")

    @staticmethod
    def resolve_id(row) -> int:
        return row.person.pk

    @staticmethod
    def resolve_name(row) -> str:
        return row.person.name

    @staticmethod
    def resolve_tags(row) -> list[str]:
        return row.person.tag_codes()

    @staticmethod
    def resolve_task_id(row) -> int | None:
        return row.task.pk if row.task is not None else None

    @staticmethod
    def resolve_today(row):
        return row.check


class ZoneHouseholdOut(Schema):
    id: int
    compound: str
    address: str = Field(description="楼-单元-房号")
    vulnerable: bool = Field(description="户内有需要每日关照的人")
    members: list[ZonePersonOut]

    @staticmethod
    def resolve_id(row) -> int:
        return row.household.pk

    @staticmethod
    def resolve_compound(row) -> str:
        return row.household.compound.name

    @staticmethod
    def resolve_address(row) -> str:
        return row.household.shorthand


class CareCheckIn(Schema):
    outcome: str = Field(max_length=20,
                         description="well 情况正常 / needs_help 需要帮助(须填 note)/ not_reached 未联系上")
    note: str = Field("", max_length=300)
    day: datetime.date | None = Field(None, description="默认今天;同一天再次提交会覆盖当天记录")


class CareAssignIn(Schema):
    assignee_id: Id | None = Field(None, description="负责该户的工作人员;null 取消指派")


class MedicalExceptionIn(Schema):
    person_id: Id
    need: str = Field(max_length=20, description="dialysis 透析 / chemotherapy 化疗 / childbirth 产检分娩 / "
                                                 "emergency 急诊 / medicine 取药 / other 其他就医")
    destination: str = Field("", max_length=100)
    note: str = Field("", max_length=300)
    valid_on: datetime.date | None = Field(None, description="默认今天")


class MedicalExceptionOut(Schema):
    id: int
    zone_id: int
    person_id: int
    person_name: str
    need: str
    need_label: str
    destination: str
    note: str
    valid_on: datetime.date
    allowed_by: str = Field(description="批准人")
    allowed_at: datetime.datetime

    @staticmethod
    def resolve_person_name(obj) -> str:
        return obj.person.name

    @staticmethod
    def resolve_need_label(obj) -> str:
        return obj.get_need_display()

    @staticmethod
    def resolve_allowed_by(obj) -> str:
        return str(obj.allowed_by or "")
