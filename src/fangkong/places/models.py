from django.db import models
from django.utils.translation import gettext_lazy as _

from fangkong.core.models import TimeStamped
from fangkong.core.scope import ScopedQuerySet


class Street(TimeStamped):
    name = models.CharField(_("街道"), max_length=100, unique=True)
    code = models.CharField(_("区划代码"), max_length=12, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"street": "id", "community_any": "communities"}

    class Meta:
        ordering = ["name"]
        verbose_name = _("街道")

    def __str__(self):
        return self.name


class Community(TimeStamped):
    street = models.ForeignKey(Street, on_delete=models.PROTECT, related_name="communities", verbose_name=_("街道"))
    name = models.CharField(_("社区"), max_length=100)

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"community": "id", "grid_any": "grids"}

    class Meta:
        ordering = ["street__name", "name"]
        verbose_name = _("社区")
        constraints = [models.UniqueConstraint(fields=["street", "name"], name="community_unique_name")]

    def __str__(self):
        return self.name


class Grid(TimeStamped):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="grids", verbose_name=_("社区"))
    name = models.CharField(_("网格"), max_length=100)

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid": "id"}

    class Meta:
        ordering = ["community_id", "name"]
        verbose_name = _("网格")
        constraints = [models.UniqueConstraint(fields=["community", "name"], name="grid_unique_name")]

    def __str__(self):
        return self.name


class Compound(TimeStamped):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="compounds", verbose_name=_("社区"))
    name = models.CharField(_("小区"), max_length=100)
    address = models.CharField(_("地址"), max_length=200, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid_any": "buildings__grid"}

    class Meta:
        ordering = ["community_id", "name"]
        verbose_name = _("小区")
        constraints = [models.UniqueConstraint(fields=["community", "name"], name="compound_unique_name")]

    def __str__(self):
        return self.name


class Building(TimeStamped):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("社区"))
    compound = models.ForeignKey(Compound, on_delete=models.PROTECT, related_name="buildings", verbose_name=_("小区"))
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="buildings", verbose_name=_("网格"))
    number = models.CharField(_("楼号"), max_length=20, help_text=_("如 3,地址简写 3-2-301 中的 3"))

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid": "grid_id"}

    class Meta:
        ordering = ["compound_id", "number"]
        verbose_name = _("楼栋")
        constraints = [models.UniqueConstraint(fields=["compound", "number"], name="building_unique_number")]

    def __str__(self):
        return f"{self.number}号楼"


class Unit(TimeStamped):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="+")
    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="units", verbose_name=_("楼栋"))
    number = models.CharField(_("单元"), max_length=20)

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid": "grid_id"}

    class Meta:
        ordering = ["building_id", "number"]
        verbose_name = _("单元")
        constraints = [models.UniqueConstraint(fields=["building", "number"], name="unit_unique_number")]

    def __str__(self):
        return f"{self.building}{self.number}单元"


class Household(TimeStamped):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="+")
    compound = models.ForeignKey(Compound, on_delete=models.PROTECT, related_name="+")
    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="households", verbose_name=_("单元"))
    room = models.CharField(_("房号"), max_length=20)
    notes = models.CharField(_("备注"), max_length=200, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid": "grid_id", "household": "id"}

    class Meta:
        ordering = ["unit_id", "room"]
        verbose_name = _("户")
        constraints = [models.UniqueConstraint(fields=["unit", "room"], name="household_unique_room")]
        indexes = [models.Index(fields=["building", "room"])]

    def __str__(self):
        return f"{self.unit}{self.room}"

    @property
    def shorthand(self) -> str:
        return f"{self.building.number}-{self.unit.number}-{self.room}"


class Venue(TimeStamped):
    class Kind(models.TextChoices):
        SHOP = "shop", _("商铺")
        HOSPITAL_WARD = "hospital_ward", _("医院住院区")
        CLINIC = "clinic", _("诊所/药店")
        DRIVING_SCHOOL = "driving_school", _("驾校")
        TEA_HOUSE = "tea_house", _("茶馆/棋牌室")
        MARKET = "market", _("市场/超市")
        RESTAURANT = "restaurant", _("餐馆")
        SCHOOL = "school", _("学校/幼儿园")
        WASTE_STATION = "waste_station", _("医疗垃圾处理站")
        OTHER = "other", _("其他")

    class Status(models.TextChoices):
        OPEN = "open", _("开放")
        LIMITED = "limited", _("限流")
        CLOSED = "closed", _("关闭")

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="venues", verbose_name=_("社区"))
    grid = models.ForeignKey(Grid, null=True, blank=True, on_delete=models.PROTECT, related_name="venues",
                             verbose_name=_("网格"))
    compound = models.ForeignKey(Compound, null=True, blank=True, on_delete=models.PROTECT, related_name="venues",
                                 verbose_name=_("小区"))
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    contact_name = models.CharField(_("负责人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    notes = models.CharField(_("备注"), max_length=200, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid": "grid_id"}

    class Meta:
        ordering = ["community_id", "kind", "name"]
        verbose_name = _("场所")

    def __str__(self):
        return self.name
