"""Checkpoints (卡口), passes (出入证) and passages (通行记录): who went in or out of which gate, and why."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangkong.core.masking import mask_id_number, mask_phone
from fangkong.core.models import TimeStamped
from fangkong.core.scope import ScopedQuerySet, scope_of


class Direction(models.TextChoices):
    IN = "in", _("进")
    OUT = "out", _("出")


class Checkpoint(TimeStamped):
    """A gate of a compound, or of the community itself, with the rules its guards enforce.

    `pass_required` is the closed compound (封闭管理): going out needs a pass. `test_within_hours`
    asks a negative nucleic-acid result of a sample taken that many hours before going out.
    """

    class Directions(models.TextChoices):
        IN = "in", _("只进")
        OUT = "out", _("只出")
        BOTH = "both", _("进出")

    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="checkpoints",
                                  verbose_name=_("社区"))
    compound = models.ForeignKey("places.Compound", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("小区"))
    name = models.CharField(_("卡口名称"), max_length=100)
    direction = models.CharField(_("通行方向"), max_length=4, choices=Directions.choices, default=Directions.BOTH)
    opens_at = models.TimeField(_("开放时间"), null=True, blank=True)
    closes_at = models.TimeField(_("关闭时间"), null=True, blank=True)
    post = models.ForeignKey("volunteers.Post", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             verbose_name=_("值守岗位"))
    pass_required = models.BooleanField(_("出门须持出入证"), default=False)
    visitors_admitted = models.BooleanField(_("允许访客进入"), default=True)
    test_within_hours = models.PositiveSmallIntegerField(_("出门须有几小时内核酸阴性"), null=True, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("设立人"))

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid_any": "compound__buildings__grid"}

    class Meta:
        ordering = ["community_id", "name", "id"]
        verbose_name = _("卡口")
        constraints = [
            models.UniqueConstraint(fields=["community", "name"], name="checkpoint_unique_name"),
            models.CheckConstraint(condition=models.Q(test_within_hours__isnull=True)
                                   | models.Q(test_within_hours__gte=1, test_within_hours__lte=168),
                                   name="checkpoint_test_hours_range"),
        ]

    def __str__(self):
        return self.name

    @property
    def place_label(self) -> str:
        return f"{self.compound}" if self.compound_id else f"{self.community}"

    def allows(self, direction: str) -> bool:
        return self.direction in (self.Directions.BOTH, direction)


class PassQuerySet(ScopedQuerySet):
    def current(self, at):
        """Valid at the moment `at` and not revoked."""
        return self.filter(revoked_at__isnull=True, valid_from__lte=at, valid_until__gt=at)


class Pass(TimeStamped):
    """A pass (出入证) of one person or of a whole household: who may go out, how often, until when.

    A quota is `quota_exits` exits in each period of `quota_days` days, the periods counted from the
    day the pass becomes valid ("one person per household every three days": 1 exit per 3 days on a
    household pass). A pass without a quota has none. A revoked pass stays, with who and why.
    """

    class Kind(models.TextChoices):
        SHOPPING = "shopping", _("采购")
        WORK = "work", _("上班")
        MEDICAL = "medical", _("就医")
        VOLUNTEER = "volunteer", _("志愿服务")

    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("社区"))
    household = models.ForeignKey("places.Household", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="passes", verbose_name=_("户"))
    person = models.ForeignKey("people.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="passes",
                               verbose_name=_("持证人"))
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    valid_from = models.DateTimeField(_("生效时间"))
    valid_until = models.DateTimeField(_("失效时间"))
    quota_exits = models.PositiveSmallIntegerField(_("每期可外出次数"), null=True, blank=True)
    quota_days = models.PositiveSmallIntegerField(_("每期天数"), null=True, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", verbose_name=_("发证人"))
    revoked_at = models.DateTimeField(_("注销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("注销人"))
    revoke_reason = models.CharField(_("注销原因"), max_length=200, blank=True)

    objects = PassQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid": "household__grid_id", "household": "household_id"}

    class Meta:
        ordering = ["-valid_from", "-id"]
        verbose_name = _("出入证")
        constraints = [
            models.CheckConstraint(condition=models.Q(person__isnull=False) | models.Q(household__isnull=False),
                                   name="pass_names_person_or_household"),
            models.CheckConstraint(condition=models.Q(quota_exits__isnull=True, quota_days__isnull=True)
                                   | models.Q(quota_exits__gte=1, quota_days__gte=1),
                                   name="pass_quota_whole"),
            models.CheckConstraint(condition=models.Q(valid_until__gt=models.F("valid_from")),
                                   name="pass_valid_window"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}出入证 {self.number}"

    @property
    def number(self) -> str:
        """The number printed on the card."""
        return f"No.{self.pk:06d}" if self.pk else ""

    @property
    def has_quota(self) -> bool:
        return self.quota_exits is not None


class Result(models.TextChoices):
    ALLOWED = "allowed", _("放行")
    REFUSED = "refused", _("不予通行")
    PERSUADED_BACK = "persuaded_back", _("劝返")


class Reason(models.TextChoices):
    """Why a passage was decided as it was; the figures count refusals and persuasions by these."""

    NONE = "", _("正常通行")
    PASS = "pass", _("凭出入证")
    MEDICAL = "medical", _("就医例外")
    VISITOR = "visitor", _("访客登记")
    CODE_FORGED = "code_forged", _("码无效")
    CODE_EXPIRED = "code_expired", _("码已过期")
    CODE_ELSEWHERE = "code_elsewhere", _("非本社区的码")
    UNKNOWN_PERSON = "unknown_person", _("查无此人")
    PASS_REVOKED = "pass_revoked", _("出入证已注销")
    PASS_NOT_VALID = "pass_not_valid", _("出入证不在有效期")
    PASS_REQUIRED = "pass_required", _("须持出入证")
    QUOTA_USED = "quota_used", _("本期外出次数已用完")
    ZONE_SEALED = "zone_sealed", _("封控区足不出户")
    ZONE_CONTROLLED = "zone_controlled", _("管控区人不出区")
    FEVER = "fever", _("体温异常")
    TEST_MISSING = "test_missing", _("无有效核酸阴性结果")
    WRONG_DIRECTION = "wrong_direction", _("卡口不允许此方向")
    CLOSED_HOURS = "closed_hours", _("不在开放时间")
    CHECKPOINT_INACTIVE = "checkpoint_inactive", _("卡口已停用")
    VISITORS_NOT_ADMITTED = "visitors_not_admitted", _("暂停访客进入")


class PassageQuerySet(ScopedQuerySet):
    def in_scope(self, actor):
        """As `scope_fields` say, and for a grid account also the passages at the gates of its compounds:
        a visitor's passage has no household, yet the grid's guards and staff follow their gate."""
        scoped = super().in_scope(actor)
        grid_ids = scope_of(actor).grid_ids
        if not grid_ids:
            return scoped
        gates = Checkpoint.objects.filter(compound__buildings__grid__in=grid_ids).values("pk")
        return scoped | self.filter(checkpoint_id__in=gates)

    def between(self, start, end):
        return self.filter(occurred_at__gte=start, occurred_at__lt=end)


class Passage(models.Model):
    """One scan in or out at a checkpoint: a person (or a visitor's details), perhaps a vehicle, and the decision.

    The highest-volume table of all, so it has few indexes: the client id that makes a device's retry
    land once, the checkpoint and time that tracing and the figures read, the person and time of one
    person's own passages, and the pass and time that count a quota (only rows with a pass).
    `offline` marks a passage decided by a scanner without network; `conflict` one whose stored
    decision the server would not have made (a quota used elsewhere meanwhile, a forged code, a wrong
    clock), with `conflict_note` saying what: kept and shown to the guard and the supervisor.
    """

    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="+", db_index=False)
    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="passages", db_index=False,
                                   verbose_name=_("卡口"))
    person = models.ForeignKey("people.Person", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="passages", db_index=False, verbose_name=_("人员"))
    household = models.ForeignKey("places.Household", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", db_index=False)
    used_pass = models.ForeignKey(Pass, null=True, blank=True, on_delete=models.PROTECT, related_name="passages",
                                  db_index=False, verbose_name=_("出入证"))
    visitor_name = models.CharField(_("访客姓名"), max_length=50, blank=True)
    visitor_phone = models.CharField(_("访客电话"), max_length=20, blank=True)
    visitor_id_number = models.CharField(_("访客证件号"), max_length=30, blank=True)
    visitor_reason = models.CharField(_("来访事由"), max_length=100, blank=True)
    plate = models.CharField(_("车牌号"), max_length=12, blank=True)
    direction = models.CharField(_("方向"), max_length=3, choices=Direction.choices)
    occurred_at = models.DateTimeField(_("通行时间"))
    temperature = models.DecimalField(_("体温"), max_digits=3, decimal_places=1, null=True, blank=True)
    result = models.CharField(_("结果"), max_length=14, choices=Result.choices)
    reason = models.CharField(_("原因"), max_length=24, choices=Reason.choices, blank=True)
    guard = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", db_index=False, verbose_name=_("登记人"))
    self_scan = models.BooleanField(_("居民自助扫码"), default=False)
    offline = models.BooleanField(_("离线登记"), default=False)
    conflict = models.BooleanField(_("有冲突"), default=False)
    conflict_note = models.CharField(_("冲突说明"), max_length=200, blank=True)
    client_id = models.UUIDField(unique=True)
    created_at = models.DateTimeField(_("接收时间"))

    objects = PassageQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid": "household__grid_id", "household": "household_id"}

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("通行记录")
        indexes = [
            models.Index(fields=["checkpoint", "occurred_at"], name="passage_checkpoint_time"),
            models.Index(fields=["person", "occurred_at"], name="passage_person_time",
                         condition=models.Q(person__isnull=False)),
            models.Index(fields=["used_pass", "occurred_at"], name="passage_pass_time",
                         condition=models.Q(used_pass__isnull=False)),
        ]

    def __str__(self):
        return f"{self.checkpoint_id} {self.get_direction_display()} {self.occurred_at:%Y-%m-%d %H:%M}"

    @property
    def is_visitor(self) -> bool:
        return self.person_id is None and bool(self.visitor_name)

    @property
    def masked_visitor_phone(self) -> str:
        return mask_phone(self.visitor_phone)

    @property
    def masked_visitor_id_number(self) -> str:
        return mask_id_number(self.visitor_id_number)
