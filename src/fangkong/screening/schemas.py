"""API shapes for following people."""

import datetime

from ninja import Field, Schema

from fangkong.core.converters import Id


# Follow-ups and the four colours

class FollowUpOut(Schema):
    id: int
    person_id: int
    person_name: str
    phone: str = Field(description="联系电话(脱敏)")
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
    def resolve_phone(obj) -> str:
        return obj.person.masked_phone

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


# Verification lists


# Screening rounds
