"""Mass testing: rounds, sampling sites, pooled tubes, samples, lab results and re-sampling tasks."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangkong.core.idnumbers import normalize_text
from fangkong.core.models import Job, TimeStamped
from fangkong.core.scope import ScopedQuerySet

POOL_SIZES = (1, 5, 10, 20)


def normalize_barcode(raw) -> str:
    """A tube barcode as stored: full-width folded, no spaces, upper case (a scanner or a lab file alike)."""
    return normalize_text(raw or "").replace(" ", "").upper()


class TestRound(TimeStamped):
    """One round of mass testing (核酸筛查轮次) over a community, some of its grids, or a zone."""

    __test__ = False

    class Kind(models.TextChoices):
        EVERYONE = "everyone", _("全员")
        KEY_GROUPS = "key_groups", _("重点人群")
        ZONE = "zone", _("封控管控区域")

    class Status(models.TextChoices):
        OPEN = "open", _("采样中")
        CLOSED = "closed", _("已结束")

    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="test_rounds",
                                  verbose_name=_("社区"))
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices, default=Kind.EVERYONE)
    grids = models.ManyToManyField("places.Grid", blank=True, related_name="+", verbose_name=_("网格"))
    zone = models.ForeignKey("zones.Zone", null=True, blank=True, on_delete=models.PROTECT, related_name="test_rounds",
                             verbose_name=_("区域"))
    key_tags = models.JSONField(_("重点人群"), default=list, blank=True)
    on = models.DateField(_("采样日期"))
    pool_size = models.PositiveSmallIntegerField(_("混采人数"), default=10)
    infant_months = models.PositiveSmallIntegerField(_("免采婴幼儿月龄(以下)"), default=36)
    exempt_away = models.BooleanField(_("外出人员免采"), default=True)
    exempt_in_hospital = models.BooleanField(_("住院人员免采"), default=True)
    exempt_positive = models.BooleanField(_("阳性感染者免采"), default=True)
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("创建人"))

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid_any": "community__grids"}

    class Meta:
        ordering = ["-on", "-id"]
        verbose_name = _("核酸筛查轮次")
        constraints = [models.CheckConstraint(condition=models.Q(pool_size__in=POOL_SIZES),
                                              name="test_round_pool_size")]

    def __str__(self):
        return self.name


class RoundExemption(models.Model):
    """A person left out of a round by hand (away, in hospital, other), with who decided it."""

    class Reason(models.TextChoices):
        INFANT = "infant", _("婴幼儿")
        AWAY = "away", _("外出")
        IN_HOSPITAL = "in_hospital", _("住院")
        POSITIVE = "positive", _("阳性感染者")
        OTHER = "other", _("其他")

    round = models.ForeignKey(TestRound, on_delete=models.CASCADE, related_name="exemptions")
    community = models.ForeignKey("places.Community", on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+", verbose_name=_("人员"))
    reason = models.CharField(_("原因"), max_length=12, choices=Reason.choices)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("登记人"))
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid": "person__household__grid_id"}

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "person"], name="round_exemption_once")]


class SamplingSite(TimeStamped):
    """A sampling site with its hours and team, or a door-to-door team with its roster of households."""

    class Kind(models.TextChoices):
        FIXED = "fixed", _("固定采样点")
        DOOR_TO_DOOR = "door_to_door", _("上门采样队")

    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="sampling_sites",
                                  verbose_name=_("社区"))
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=14, choices=Kind.choices, default=Kind.FIXED)
    address = models.CharField(_("位置"), max_length=200, blank=True)
    opens_at = models.TimeField(_("开始时间"), null=True, blank=True)
    closes_at = models.TimeField(_("结束时间"), null=True, blank=True)
    team = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="sampling_sites",
                                  verbose_name=_("采样人员"))
    roster = models.ManyToManyField("places.Household", blank=True, related_name="+", verbose_name=_("上门名单"))
    active = models.BooleanField(_("启用"), default=True)

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid_any": "community__grids"}

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("采样点")
        constraints = [models.UniqueConstraint(fields=["community", "name"], name="sampling_site_unique_name")]

    def __str__(self):
        return self.name


class Result(models.TextChoices):
    NEGATIVE = "negative", _("阴性")
    POSITIVE = "positive", _("阳性")
    INVALID = "invalid", _("无效")


class Tube(models.Model):
    """One sampling tube (采样管), opened by its barcode; pooled up to the round's pool size."""

    class Status(models.TextChoices):
        OPEN = "open", _("采样中")
        CLOSED = "closed", _("已封管")
        RESULTED = "resulted", _("已出结果")

    round = models.ForeignKey(TestRound, on_delete=models.PROTECT, related_name="tubes")
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey(SamplingSite, on_delete=models.PROTECT, related_name="tubes", verbose_name=_("采样点"))
    barcode = models.CharField(_("条码"), max_length=40, unique=True)
    pool_size = models.PositiveSmallIntegerField(_("混采人数"))
    sample_count = models.PositiveSmallIntegerField(_("已采人数"), default=0)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN)
    result = models.CharField(_("结果"), max_length=10, choices=Result.choices, blank=True)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                                  verbose_name=_("采样人员"))
    opened_at = models.DateTimeField(_("开管时间"))
    closed_at = models.DateTimeField(_("封管时间"), null=True, blank=True)
    resulted_at = models.DateTimeField(_("结果时间"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"community": "community_id"}

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("采样管")
        constraints = [models.CheckConstraint(condition=models.Q(sample_count__lte=models.F("pool_size")),
                                              name="tube_not_over_pool")]
        indexes = [models.Index(fields=["round", "status"])]

    def __str__(self):
        return self.barcode


class Sample(models.Model):
    """One person swabbed into one tube (采样记录). `client_id` makes a device's retry land once.

    A person is sampled once per round, apart from the single-tube re-sample (单管复核) a positive
    pooled tube asks for; a sample of an invalid tube is voided, which sends the person back to the
    untested list and lets them be sampled again.
    """

    round = models.ForeignKey(TestRound, on_delete=models.PROTECT, related_name="samples")
    tube = models.ForeignKey(Tube, on_delete=models.PROTECT, related_name="samples")
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="samples")
    household = models.ForeignKey("places.Household", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    site = models.ForeignKey(SamplingSite, on_delete=models.PROTECT, related_name="samples")
    sampler = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    taken_at = models.DateTimeField(_("采样时间"))
    door_to_door = models.BooleanField(_("上门采样"), default=False)
    resample = models.BooleanField(_("单管复核"), default=False)
    void = models.BooleanField(_("已作废"), default=False)
    client_id = models.UUIDField(unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid": "household__grid_id", "household": "household_id"}

    class Meta:
        ordering = ["-taken_at", "-id"]
        verbose_name = _("采样记录")
        constraints = [models.UniqueConstraint(fields=["round", "person"],
                                               condition=models.Q(void=False, resample=False),
                                               name="sample_once_per_round")]
        indexes = [models.Index(fields=["tube"]), models.Index(fields=["round", "household"])]


class ResultImport(Job):
    """One lab result file as it came in, imported by the worker while the console shows its progress, and what it did.

    The results, and the chain of every positive tube, land in one transaction at the end of the
    run (its last write fills rows, positives and unknown_tubes and gives the file up), so a run cut
    off by a restart has stored nothing and simply starts again; a rerun that finds the file given
    up knows the results landed and only reports them.
    """

    work = "fangkong.testing.services.results.result_import_work"
    rerun_if_interrupted = True
    cleared_on_failure = ("upload",)

    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("社区"))
    file_name = models.CharField(_("文件名"), max_length=200, blank=True)
    rows = models.PositiveIntegerField(_("行数"), default=0)
    positives = models.PositiveIntegerField(_("阳性管数"), default=0)
    unknown_tubes = models.JSONField(_("未知条码"), default=list)
    upload = models.BinaryField(null=True, editable=False,
                                help_text="The uploaded file, until its results have landed or the job failed.")

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"community": "community_id"}

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("检测结果导入")

    def __str__(self):
        return self.file_name


class LabResult(models.Model):
    """A tube's result as the lab reported it: never changed; a correction is a new row that `replaces` it."""

    tube = models.ForeignKey(Tube, on_delete=models.PROTECT, related_name="results")
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="+")
    result = models.CharField(_("结果"), max_length=10, choices=Result.choices)
    reported_at = models.DateTimeField(_("报告时间"))
    lab = models.CharField(_("检测机构"), max_length=100, blank=True)
    replaces = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by")
    source = models.ForeignKey(ResultImport, null=True, blank=True, on_delete=models.SET_NULL, related_name="results")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"community": "community_id"}

    class Meta:
        ordering = ["tube", "created_at", "id"]
        verbose_name = _("检测结果")


class ResampleTask(TimeStamped):
    """单管复核: everyone of a positive pooled tube is sampled again alone; the household's grid is told."""

    class Status(models.TextChoices):
        OPEN = "open", _("待复核")
        DONE = "done", _("已复采")

    round = models.ForeignKey(TestRound, on_delete=models.PROTECT, related_name="resample_tasks")
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="+")
    tube = models.ForeignKey(Tube, on_delete=models.PROTECT, related_name="resample_tasks")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="resample_tasks")
    household = models.ForeignKey("places.Household", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    grid = models.ForeignKey("places.Grid", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(_("状态"), max_length=6, choices=Status.choices, default=Status.OPEN)
    sample = models.ForeignKey(Sample, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid": "grid_id", "household": "household_id"}

    class Meta:
        ordering = ["status", "id"]
        verbose_name = _("单管复核")
        constraints = [models.UniqueConstraint(fields=["tube", "person"], name="resample_once_per_tube")]


class AntigenReport(models.Model):
    """A resident's antigen self-test (抗原自测) with its photo, counted apart from nucleic-acid samples."""

    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="antigen_reports")
    household = models.ForeignKey("places.Household", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    round = models.ForeignKey(TestRound, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="antigen_reports")
    result = models.CharField(_("结果"), max_length=10, choices=Result.choices)
    photo = models.FileField(_("照片"), upload_to="antigen/%Y/%m/%d/", blank=True)
    taken_at = models.DateTimeField(_("检测时间"))
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    client_id = models.UUIDField(null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid": "household__grid_id", "household": "household_id"}

    class Meta:
        ordering = ["-taken_at", "-id"]
        verbose_name = _("抗原自测")
