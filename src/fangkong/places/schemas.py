"""Request and response bodies of the places API."""

from ninja import Field, Schema

from fangkong.core.choices import Choice
from fangkong.core.converters import Id
from fangkong.core.masking import mask_phone
from fangkong.places.models import Venue


class CommunityOut(Schema):
    id: int
    name: str = Field(description="社区名称")
    street_id: int
    street_name: str = Field(alias="street.name", description="所属街道")


class GridOut(Schema):
    id: int
    name: str = Field(description="网格名称")
    community_id: int


class GridIn(Schema):
    community_id: Id = Field(description="所属社区")
    name: str = Field(description="网格名称")


class GridPatch(Schema):
    name: str | None = Field(None, description="新网格名称")


class CompoundOut(Schema):
    id: int
    name: str = Field(description="小区名称")
    address: str
    community_id: int


class CompoundIn(Schema):
    community_id: Id = Field(description="所属社区")
    name: str = Field(description="小区名称")
    address: str = Field("", description="地址")


class CompoundPatch(Schema):
    name: str | None = Field(None, description="新小区名称")
    address: str | None = Field(None, description="新地址")


class BuildingOut(Schema):
    id: int
    number: str = Field(description="楼号,如 3")
    compound_id: int
    grid_id: int
    community_id: int


class BuildingIn(Schema):
    compound_id: Id = Field(description="所属小区")
    grid_id: Id = Field(description="所属网格(须与小区同一社区)")
    number: str = Field(description="楼号,如 3 或 3号楼")


class BuildingPatch(Schema):
    grid_id: Id | None = Field(None, description="新网格;楼内单元和户随之调整")
    number: str | None = Field(None, description="新楼号")


class GenerateIn(Schema):
    floors: int = Field(description="层数")
    units: int = Field(description="单元数")
    rooms_per_floor: int = Field(description="每层每单元户数")


class GenerateOut(Schema):
    created: int = Field(description="新建的户数(已有房号保留)")


class HouseholdOut(Schema):
    id: int
    room: str = Field(description="房号")
    shorthand: str = Field(description="地址简写 楼-单元-房号,如 3-2-301")
    unit_id: int
    building_id: int
    compound_id: int
    grid_id: int
    community_id: int
    notes: str


class HouseholdIn(Schema):
    building_id: Id = Field(description="楼栋")
    unit: str = Field(description="单元号,如 2")
    room: str = Field(description="房号,如 301")
    notes: str = Field("", description="备注")


class HouseholdPatch(Schema):
    room: str | None = Field(None, description="新房号(同一单元内不重复)")
    notes: str | None = Field(None, description="备注")


class VenueOut(Schema):
    id: int
    name: str
    kind: Choice[Venue.Kind] = Field(description="类型")
    status: Choice[Venue.Status] = Field(description="状态:open 开放 / limited 限流 / closed 关闭")
    community_id: int
    grid_id: int | None
    compound_id: int | None
    address: str
    contact_name: str
    contact_phone: str = Field(description="负责人电话(脱敏,如 139****5678)")
    notes: str

    @staticmethod
    def resolve_contact_phone(obj) -> str:
        return mask_phone(obj.contact_phone)


class VenueIn(Schema):
    community_id: Id = Field(description="所属社区")
    name: str = Field(description="名称")
    kind: str = Field(description="类型,如 shop、hospital_ward、driving_school")
    status: str = Field(Venue.Status.OPEN, description="状态")
    grid_id: Id | None = None
    compound_id: Id | None = None
    address: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    notes: str = ""


class VenuePatch(Schema):
    name: str | None = None
    kind: str | None = None
    status: str | None = None
    grid_id: Id | None = None
    compound_id: Id | None = None
    address: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    notes: str | None = None
