"""Request and response bodies of the people API, and the masked person every app's lists show.

`PersonOut` always carries masked ID numbers and phones; only `PersonRevealed`, the answer
of the explicit (and audited) reveal action, carries the full values. A row about someone
(an arrival, a contact, a passenger…) describes them with `MaskedPersonOut`, or with its
`MaskedIdNumber` and `MaskedPhone` fields when it shows only one of the two.
"""

import datetime
from typing import Annotated

from ninja import Field, Schema

from fangkong.core.converters import Id
from fangkong.core.schemas import JobProgressOut
from fangkong.people.models import IdType, Residency

MaskedIdNumber = Annotated[str, Field(alias="person.masked_id_number", description="证件号码(脱敏)")]
"""The ID number of the row's person (`row.person`), masked: 110***********123X."""
MaskedPhone = Annotated[str, Field(alias="person.masked_phone", description="联系电话(脱敏)")]
"""The phone of the row's person (`row.person`), masked: 138****5678."""


class MaskedPersonOut(Schema):
    """The person a row is about (`row.person`): who, with ID number and phone masked."""

    person_id: int
    person_name: str = Field(alias="person.name", description="姓名")
    id_number: MaskedIdNumber
    phone: MaskedPhone


class PersonOut(Schema):
    id: int
    name: str = Field(description="姓名")
    id_type: str = Field(description="证件类型")
    id_number: str = Field(description="证件号码(脱敏,如 110***********123X)")
    sex: str = Field(description="性别:M 男 / F 女")
    birth_date: datetime.date | None = Field(description="出生日期")
    phone: str = Field(description="联系电话(脱敏,如 138****5678)")
    community_id: int
    household_id: int | None
    address: str = Field(description="地址简写 楼-单元-房号")
    relationship: str = Field(description="与户主关系")
    residency: str = Field(description="人员类型:registered 户籍 / resident 常住 / floating 流动 / visitor 临时来访")
    tags: list[str] = Field(description="重点人群标签")
    notes: str

    @staticmethod
    def resolve_id_number(obj) -> str:
        return obj.masked_id_number

    @staticmethod
    def resolve_phone(obj) -> str:
        return obj.masked_phone

    @staticmethod
    def resolve_address(obj) -> str:
        return obj.household.shorthand if obj.household_id else ""

    @staticmethod
    def resolve_tags(obj) -> list[str]:
        return obj.tag_codes()


class PersonRevealed(PersonOut):
    id_number: str = Field(description="完整证件号码")
    phone: str = Field(description="完整联系电话")

    @staticmethod
    def resolve_id_number(obj) -> str:
        return obj.id_number

    @staticmethod
    def resolve_phone(obj) -> str:
        return obj.phone


class PersonIn(Schema):
    community_id: Id | None = Field(None, description="所属社区;给出 household_id 时可省略")
    household_id: Id | None = Field(None, description="所属户")
    name: str = Field(description="姓名")
    id_type: str = Field(IdType.RESIDENT_ID, description="证件类型,默认居民身份证")
    id_number: str = Field(description="证件号码;身份证校验位按 GB 11643 检查,小写 x 自动转为 X")
    sex: str = Field("", description="性别(身份证号可推出时可省略)")
    birth_date: datetime.date | None = Field(None, description="出生日期(身份证号可推出时可省略)")
    phone: str = Field("", description="手机号")
    relationship: str = Field("", description="与户主关系")
    residency: str = Field(Residency.RESIDENT, description="人员类型")
    tags: list[str] = Field(default_factory=list, description="重点人群标签")
    notes: str = ""


class PersonPatch(Schema):
    household_id: Id | None = Field(None, description="所属户;null 表示移出")
    name: str | None = None
    id_type: str | None = None
    id_number: str | None = None
    sex: str | None = None
    birth_date: datetime.date | None = None
    phone: str | None = None
    relationship: str | None = None
    residency: str | None = None
    tags: list[str] | None = None
    notes: str | None = None


class MergeIn(Schema):
    duplicate: Id = Field(description="要并入当前人员并删除的重复记录")


class DuplicateGroupOut(Schema):
    reason: str = Field(description="疑似重复的原因")
    persons: list[PersonOut]


class LedgerProblemOut(Schema):
    line: int | None = Field(description="表格中的行号")
    field: str = Field(description="列")
    message: str = Field(description="原因")


class LedgerReportOut(Schema):
    ok: bool
    dry_run: bool = Field(description="仅预览,未写入")
    rows: int
    created: int
    updated: int
    unchanged: int
    households_created: int
    problems: list[LedgerProblemOut]
    unknown_columns: list[str] = Field(description="未识别的列(不影响导入)")


class ImportJobOut(JobProgressOut):
    """A ledger import queued for the worker: poll it until `status` is done or failed."""

    id: int
    file_name: str
    dry_run: bool = Field(description="仅预览,不写入")
    rows_written: int = Field(description="已写入行数(预览不写入)")
    report: LedgerReportOut | None = Field(description="完成后的导入结果")
    created_at: datetime.datetime

    @staticmethod
    def resolve_report(job):
        return job.report or None
