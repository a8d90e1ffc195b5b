"""Request and response bodies of the post API."""

import datetime

from ninja import Field, Schema

from fangkong.core.converters import Id


class PostOut(Schema):
    id: int
    community_id: int
    name: str
    kind: str = Field(description="zone_guard 封控值守 / gate 卡口值守 / delivery 物资配送 / other 其他")
    place: str = Field(description="小区、楼栋、单元")
    compound_id: int | None
    building_id: int | None
    unit_id: int | None
    zone_id: int | None
    hours_per_day: int
    headcount: int
    status: str = Field(description="open 在岗 / closed 已撤岗")
    closed_at: datetime.datetime | None

    @staticmethod
    def resolve_place(obj) -> str:
        return obj.place_label


class PostIn(Schema):
    community_id: Id
    name: str = Field(max_length=100)
    kind: str = Field(max_length=20)
    compound_id: Id | None = None
    building_id: Id | None = None
    unit_id: Id | None = None
    zone_id: Id | None = Field(None, description="所属的封控/管控区域(待确认或生效中)")
    hours_per_day: int = Field(24, description="1–24")
    headcount: int = Field(1, description="1–50")
