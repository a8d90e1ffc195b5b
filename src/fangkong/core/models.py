import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangkong.core.scope import ScopedQuerySet


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class StreetPolicy(TimeStamped):
    """A rule a street admin sets for the whole street: every community and grid of the street reads it."""

    street = models.ForeignKey("places.Street", on_delete=models.CASCADE, verbose_name=_("街道"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("登记人"))

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"street": "street_id", "community_any": "street__communities",
                    "grid_any": "street__communities__grids"}

    class Meta:
        abstract = True


class DatedPolicyQuerySet(ScopedQuerySet):
    def in_force_on(self, day):
        """The policies already effective on `day` (a date or an OuterRef), the one in force first.

        A policy holds from its date until a newer one takes effect, so `.first()` is the policy in
        force that day, and `[:1]` of its values a subquery for it; none means the default applies.
        """
        return self.filter(effective_from__lte=day).order_by("-effective_from")


class DatedStreetPolicy(StreetPolicy):
    """A street policy from a date on: policies change mid-emergency, and what was decided before
    a date keeps holding for what started before it."""

    effective_from = models.DateField(_("生效日期"))

    objects = DatedPolicyQuerySet.as_manager()

    class Meta:
        abstract = True


class AuditEvent(models.Model):
    """Who saw, exported or changed personal data, from where and when."""

    class Action(models.TextChoices):
        CREATE = "create", _("新建")
        UPDATE = "update", _("修改")
        DELETE = "delete", _("删除")
        REVEAL = "reveal", _("查看完整信息")
        EXPORT = "export", _("导出")
        IMPORT = "import", _("导入")
        MERGE = "merge", _("合并")
        SEARCH_FULL_ID = "search_full_id", _("按完整证件号查询")
        SIGN_IN = "sign_in", _("登录")
        TOKEN = "token", _("创建令牌")

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_label = models.CharField(_("操作人"), max_length=150)
    via = models.CharField(_("途径"), max_length=20, default="web")
    action = models.CharField(_("动作"), max_length=20, choices=Action.choices)
    object_type = models.CharField(_("对象类型"), max_length=50)
    object_id = models.CharField(_("对象编号"), max_length=50, blank=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    fields = models.JSONField(_("字段"), default=list, blank=True)
    community = models.ForeignKey("places.Community", null=True, blank=True, on_delete=models.SET_NULL)
    client_address = models.GenericIPAddressField(_("客户端地址"), null=True, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"community": "community_id"}

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["community", "-created_at"]), models.Index(fields=["object_type", "object_id"])]

    def __str__(self):
        return f"{self.actor_label} {self.get_action_display()} {self.object_repr}"


class Throttle(models.Model):
    """A counter per key and window, shared by every app server through the database."""

    key = models.CharField(max_length=200, unique=True)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)


class Job(TimeStamped):
    """A long piece of work an app hands to the worker, whose row the console polls while it runs.

    A concrete job names its work by dotted path: a function `work(job, progress) -> dict` that
    reports progress through `progress` (fangkong.core.jobs.Progress) and returns the fields to
    save when it succeeds; raising DomainError fails the job with that message. Queue it with
    fangkong.core.jobs.job_enqueue(job).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("进行中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    STEPS = ("read", "checked", "written")  # counted in rows_read, rows_checked, rows_written

    work: str = ""
    # Whether a run cut off by a restart may simply start again: true only for work that lands
    # whole or not at all and does nothing twice. Otherwise the job fails, saying it was cut off.
    rerun_if_interrupted: bool = False
    # Fields emptied when the job fails (e.g. an uploaded file nobody will use any more).
    cleared_on_failure: tuple[str, ...] = ()

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("操作人"))
    origin = models.JSONField(default=dict, blank=True, editable=False,
                              help_text="Where the actor queued it from (via, client address), for the audit trail.")
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(_("总行数"), default=0)
    rows_read = models.PositiveIntegerField(_("已读取"), default=0)
    rows_checked = models.PositiveIntegerField(_("已校验"), default=0)
    rows_written = models.PositiveIntegerField(_("已写入"), default=0)
    error = models.TextField(_("错误"), blank=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.FAILED}

    @property
    def waits_too_long(self) -> bool:
        """Still queued a minute on: most likely no worker is running."""
        return self.status == self.Status.QUEUED and timezone.now() - self.created_at > datetime.timedelta(minutes=1)

    @property
    def steps(self) -> tuple[str, ...]:
        """The steps this job goes through, each an equal part of its progress bar."""
        return self.STEPS

    @property
    def percent(self) -> int:
        if self.is_finished:
            return 100
        if not self.total:
            return 0
        done = sum(min(getattr(self, f"rows_{step}"), self.total) for step in self.steps)
        return min(100, done * 100 // (len(self.steps) * self.total))


class TaskWorker(models.Model):
    """A running `fangkong worker`: it beats every few seconds, so the others know it is alive.

    A task left RUNNING by a worker whose beat has stopped (or whose process is gone from this
    machine) was cut off, and the next worker to look puts it right (fangkong.core.tasks).
    """

    worker_id = models.CharField(max_length=64, primary_key=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.hostname}:{self.pid}"
