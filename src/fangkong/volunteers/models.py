"""Posts (岗位): the places someone must stand guard, so that shifts can be scheduled on them."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangkong.core.models import TimeStamped
from fangkong.core.scope import ScopedQuerySet


class PostQuerySet(ScopedQuerySet):
    def open(self):
        return self.filter(status=Post.Status.OPEN)


class Post(TimeStamped):
    """One post: where, what kind of duty, how many hours a day and how many people at once."""

    class Kind(models.TextChoices):
        ZONE_GUARD = "zone_guard", _("封控值守")
        GATE = "gate", _("卡口值守")
        DELIVERY = "delivery", _("物资配送")
        OTHER = "other", _("其他")

    class Status(models.TextChoices):
        OPEN = "open", _("在岗")
        CLOSED = "closed", _("已撤岗")

    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="posts",
                                  verbose_name=_("社区"))
    name = models.CharField(_("岗位名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    compound = models.ForeignKey("places.Compound", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("小区"))
    building = models.ForeignKey("places.Building", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("楼栋"))
    unit = models.ForeignKey("places.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("单元"))
    zone = models.ForeignKey("zones.Zone", null=True, blank=True, on_delete=models.SET_NULL, related_name="posts",
                             verbose_name=_("所属区域"))
    hours_per_day = models.PositiveSmallIntegerField(_("每日在岗小时"), default=24)
    headcount = models.PositiveSmallIntegerField(_("同时在岗人数"), default=1)
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.OPEN)
    closed_at = models.DateTimeField(_("撤岗时间"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("设岗人"))

    objects = PostQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid": "building__grid_id"}

    class Meta:
        ordering = ["status", "name", "id"]
        verbose_name = _("岗位")
        constraints = [
            models.CheckConstraint(condition=models.Q(hours_per_day__gte=1, hours_per_day__lte=24),
                                   name="post_hours_range"),
            models.CheckConstraint(condition=models.Q(headcount__gte=1, headcount__lte=50),
                                   name="post_headcount_range"),
        ]

    def __str__(self):
        return self.name

    @property
    def place_label(self) -> str:
        """"驰誉小区3号楼2单元" down to the post's own place; empty for a post that stands nowhere in particular."""
        if self.compound_id is None:
            return ""
        place = self.unit or self.building
        return f"{self.compound}{place}" if place is not None else str(self.compound)
