"""Response bodies of the accounts API."""

from ninja import Field, Schema


class PlaceRef(Schema):
    id: int
    name: str


class ScopeOut(Schema):
    everything: bool = Field(description="系统管理员:全部范围")
    street: PlaceRef | None = Field(description="负责街道")
    communities: list[PlaceRef] = Field(description="可见的社区")
    grids: list[PlaceRef] = Field(description="负责网格")
    household_id: int | None = Field(description="居民本人的户")


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    role: str = Field(description="角色代码,如 community_staff;系统管理员为空")
    role_label: str = Field(description="角色中文名")
    is_superuser: bool
    may_reveal_full_values: bool = Field(description="可查看完整证件号和手机号")
    may_export_full_values: bool = Field(description="可导出完整证件号和手机号")
    may_edit_registry: bool = Field(description="可修改人员台账")
    may_edit_places: bool = Field(description="可修改地点")
    scope: ScopeOut
