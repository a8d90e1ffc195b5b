"""Sealed, controlled and precaution zones (封控区/管控区/防范区), their unlock dates and the care inside them."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangkong.core.models import DatedStreetPolicy, TimeStamped
from fangkong.core.scope import ScopedQuerySet, scope_of


class Level(models.TextChoices):
    SEALED = "sealed", _("封控区")
    CONTROLLED = "controlled", _("管控区")
    PRECAUTION = "precaution", _("防范区")


LEVEL_RANK = {Level.SEALED: 3, Level.CONTROLLED: 2, Level.PRECAUTION: 1}


class PlaceKind(models.TextChoices):
    HOUSEHOLD = "household", _("户")
    UNIT = "unit", _("单元")
    BUILDING = "building", _("楼栋")
    COMPOUND = "compound", _("小区")


class Movement(models.TextChoices):
    """What a person may do, derived from the zones around their home (for checkpoints to enforce)."""

    SEALED = "sealed", _("封控:足不出户")
    CONTROLLED = "controlled", _("管控:人不出区")
    PRECAUTION = "precaution", _("防范:限制聚集")
    FREE = "free", _("正常通行")


class ZonePolicy(DatedStreetPolicy):
    """When a zone of a level may be lifted: N days without a new positive inside and K negative rounds."""

    level = models.CharField(_("区域类型"), max_length=12, choices=Level.choices)
    days_without_positive = models.PositiveSmallIntegerField(_("无新增阳性天数"))
    negative_rounds = models.PositiveSmallIntegerField(_("核酸阴性轮次"))

    class Meta:
        ordering = ["level", "-effective_from"]
        verbose_name = _("解封政策")
        constraints = [
            models.UniqueConstraint(fields=["street", "level", "effective_from"], name="zone_policy_once_a_day"),
            models.CheckConstraint(condition=models.Q(days_without_positive__gte=1, days_without_positive__lte=60),
                                   name="zone_policy_days_range"),
            models.CheckConstraint(condition=models.Q(negative_rounds__lte=30), name="zone_policy_rounds_range"),
        ]


class ZoneQuerySet(ScopedQuerySet):
    def in_scope(self, actor):
        """As `scope_fields` say, and a zone on a whole compound to a grid account with a building in that compound.

        A grid member looks in on their people under such a zone; a zone on a building, a unit or a
        household stays with that building's grid.
        """
        scoped = super().in_scope(actor)
        grid_ids = scope_of(actor).grid_ids
        if not grid_ids:
            return scoped
        whole_compounds = Zone.objects.filter(building__isnull=True, compound__buildings__grid__in=grid_ids)
        return scoped | self.filter(pk__in=whole_compounds.values("pk"))

    def live(self):
        """Proposed or active: the zones that still hold a place."""
        return self.filter(status__in=[Zone.Status.PROPOSED, Zone.Status.ACTIVE])

    def active(self):
        return self.filter(status=Zone.Status.ACTIVE)


class Zone(TimeStamped):
    """A sealed, controlled or precaution zone on a household, unit, building or compound.

    The place is stored down to its own level (a building zone has compound and building set,
    unit and household empty), so "does this zone cover that household" is one comparison per
    level. `place_key` ("unit:12") lets the database hold one live zone per place. The unlock
    date is stored as an index and recomputed by every service that changes what it depends on.
    """

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("待确认")
        ACTIVE = "active", _("生效中")
        LIFTED = "lifted", _("已解封")
        DISMISSED = "dismissed", _("未采纳")
        SUPERSEDED = "superseded", _("已调整")

    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="zones",
                                  verbose_name=_("社区"))
    level = models.CharField(_("区域类型"), max_length=12, choices=Level.choices)
    place_kind = models.CharField(_("范围"), max_length=10, choices=PlaceKind.choices)
    compound = models.ForeignKey("places.Compound", on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    building = models.ForeignKey("places.Building", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("楼栋"))
    unit = models.ForeignKey("places.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("单元"))
    household = models.ForeignKey("places.Household", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("户"))
    place_key = models.CharField(max_length=24)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.PROPOSED)
    reason = models.CharField(_("原因"), max_length=300, blank=True)
    rules = models.TextField(_("管控要求"), blank=True)
    cases = models.ManyToManyField("health.Case", blank=True, related_name="zones", verbose_name=_("关联病例"))
    guarded = models.BooleanField(_("24小时值守"), default=False)
    supersedes = models.OneToOneField("self", null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="superseded_by", verbose_name=_("调整自"))
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("提出人"))
    started_at = models.DateTimeField(_("生效时间"), null=True, blank=True)
    activated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name=_("确认人"))
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", verbose_name=_("结束操作人"))
    end_note = models.CharField(_("结束说明"), max_length=300, blank=True)
    lifted_by_override = models.BooleanField(_("未达标强制解封"), default=False)
    last_positive_on = models.DateField(_("末例阳性日期"), null=True, blank=True)
    negative_rounds_done = models.PositiveSmallIntegerField(_("已完成阴性轮次"), default=0)
    unlock_on = models.DateField(_("可解封日期"), null=True, blank=True)

    objects = ZoneQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid": "building__grid_id"}

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("封控管控区域")
        constraints = [models.UniqueConstraint(fields=["place_key"],
                                               condition=models.Q(status__in=["proposed", "active"]),
                                               name="zone_one_live_per_place")]
        indexes = [models.Index(fields=["community", "status"]), models.Index(fields=["compound", "status"])]

    def __str__(self):
        return f"{self.place_label} {self.get_level_display()}"

    @property
    def place_label(self) -> str:
        """"驰誉小区3号楼2单元301" down to the zone's own level."""
        place = self.household or self.unit or self.building
        label = str(self.compound)
        return f"{label}{place}" if place is not None else label

    @property
    def rank(self) -> int:
        return LEVEL_RANK[self.level]


class ZoneEvent(models.Model):
    """The zone's history: proposal, activation, positives that reset the countdown, rounds, changes, lifting."""

    class Kind(models.TextChoices):
        PROPOSED = "proposed", _("提出")
        ACTIVATED = "activated", _("生效")
        DISMISSED = "dismissed", _("未采纳")
        POSITIVE = "positive", _("新增阳性")
        NEGATIVE_ROUND = "negative_round", _("核酸阴性轮次")
        POLICY = "policy", _("政策调整")
        ESCALATED = "escalated", _("升级")
        DE_ESCALATED = "de_escalated", _("降级")
        LIFTED = "lifted", _("解封")
        OVERRIDE = "override", _("强制操作")
        EXCEPTION = "exception", _("就医例外")

    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="events")
    community = models.ForeignKey("places.Community", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    unlock_on = models.DateField(_("可解封日期"), null=True, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                           related_name="+", verbose_name=_("操作人"))
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid": "zone__building__grid_id"}

    class Meta:
        ordering = ["created_at", "id"]


class ZoneRound(models.Model):
    """One testing round inside a zone with its outcome: only all-negative rounds count towards unlocking."""

    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="rounds")
    community = models.ForeignKey("places.Community", on_delete=models.CASCADE, related_name="+")
    on = models.DateField(_("采样日期"))
    negative = models.BooleanField(_("全员阴性"))
    note = models.CharField(_("说明"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("登记人"))
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid": "zone__building__grid_id"}

    class Meta:
        ordering = ["on", "id"]
        constraints = [models.UniqueConstraint(fields=["zone", "on"], name="zone_round_once_a_day")]


class CareTask(TimeStamped):
    """A standing daily check of one vulnerable person inside a zone (nobody in a sealed unit is forgotten)."""

    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="care_tasks")
    community = models.ForeignKey("places.Community", on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="care_tasks",
                               verbose_name=_("人员"))
    household = models.ForeignKey("places.Household", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    needs = models.JSONField(_("重点情况"), default=list)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", verbose_name=_("责任人"))
    active = models.BooleanField(_("进行中"), default=True)

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid": "household__grid_id"}

    class Meta:
        ordering = ["id"]
        verbose_name = _("每日关照")
        constraints = [models.UniqueConstraint(fields=["zone", "person"], name="care_task_once_per_zone")]


class CareCheck(models.Model):
    """One day's check of a care task: seen and well, or a need to act on."""

    class Outcome(models.TextChoices):
        WELL = "well", _("情况正常")
        NEEDS_HELP = "needs_help", _("需要帮助")
        NOT_REACHED = "not_reached", _("未联系上")

    task = models.ForeignKey(CareTask, on_delete=models.CASCADE, related_name="checks")
    community = models.ForeignKey("places.Community", on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("日期"))
    outcome = models.CharField(_("情况"), max_length=12, choices=Outcome.choices)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("查看人"))
    checked_at = models.DateTimeField(_("时间"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid": "task__household__grid_id"}

    class Meta:
        ordering = ["-day", "-id"]
        constraints = [models.UniqueConstraint(fields=["task", "day"], name="care_check_once_a_day")]


class MedicalException(models.Model):
    """A medical need that went out of a zone: allowed, never refused, and logged with who allowed it."""

    class Need(models.TextChoices):
        DIALYSIS = "dialysis", _("透析")
        CHEMOTHERAPY = "chemotherapy", _("化疗")
        CHILDBIRTH = "childbirth", _("产检/分娩")
        EMERGENCY = "emergency", _("急诊")
        MEDICINE = "medicine", _("取药")
        OTHER = "other", _("其他就医")

    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="exceptions")
    community = models.ForeignKey("places.Community", on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="medical_exceptions",
                               verbose_name=_("人员"))
    need = models.CharField(_("就医需求"), max_length=14, choices=Need.choices)
    destination = models.CharField(_("前往"), max_length=100, blank=True)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    valid_on = models.DateField(_("日期"))
    allowed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("批准人"))
    allowed_at = models.DateTimeField(_("批准时间"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid": "person__household__grid_id"}

    class Meta:
        ordering = ["-allowed_at", "-id"]
        verbose_name = _("就医例外")
