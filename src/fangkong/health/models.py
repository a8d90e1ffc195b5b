"""Observation of people at home or in central quarantine, and their twice-daily health checks."""

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangkong.core.models import DatedStreetPolicy, StreetPolicy, TimeStamped
from fangkong.core.scope import ScopedQuerySet


class ObservationKind(models.TextChoices):
    HOME_QUARANTINE = "home_quarantine", _("居家隔离")
    HOME_MONITORING = "home_monitoring", _("居家健康监测")
    CENTRAL_QUARANTINE = "central_quarantine", _("集中隔离")


class ObservationReason(models.TextChoices):
    ARRIVAL = "arrival", _("外地返回")
    CLOSE_CONTACT = "close_contact", _("密切接触者")
    SECONDARY_CONTACT = "secondary_contact", _("次密切接触者")
    OTHER = "other", _("其他")


class ObservationPolicy(DatedStreetPolicy):
    """How many days an observation of a kind lasts, from a date on (policies change mid-emergency)."""

    kind = models.CharField(_("类型"), max_length=20, choices=ObservationKind.choices)
    days = models.PositiveSmallIntegerField(_("天数"))

    class Meta:
        ordering = ["kind", "-effective_from"]
        verbose_name = _("隔离政策")
        constraints = [models.UniqueConstraint(fields=["street", "kind", "effective_from"],
                                               name="observation_policy_once_a_day"),
                       models.CheckConstraint(condition=models.Q(days__gte=1, days__lte=60),
                                              name="observation_policy_days_range")]


class ObservationQuerySet(ScopedQuerySet):
    def active(self):
        return self.filter(status=Observation.Status.ACTIVE)


class Observation(TimeStamped):
    """One person observed at home or in central quarantine (居家隔离/居家健康监测/集中隔离).

    The team is the seeds' 五个一: a cadre, a medic, a police officer and a volunteer for each
    person, plus a family contact.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("进行中")
        RELEASED = "released", _("已解除")
        ENDED_EARLY = "ended_early", _("提前结束")
        TRANSFERRED = "transferred", _("已转集中隔离")

    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="observations",
                                  verbose_name=_("社区"))
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="observations",
                               verbose_name=_("人员"))
    household = models.ForeignKey("places.Household", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="observations", verbose_name=_("隔离地点"))
    kind = models.CharField(_("类型"), max_length=20, choices=ObservationKind.choices)
    reason = models.CharField(_("原因"), max_length=20, choices=ObservationReason.choices)
    reason_note = models.CharField(_("原因说明"), max_length=200, blank=True)
    arrival = models.ForeignKey("screening.Arrival", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="observations", verbose_name=_("返乡登记"))
    starts_on = models.DateField(_("开始日期"))
    planned_end_on = models.DateField(_("计划解除日期"))
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.ACTIVE)
    ended_on = models.DateField(_("结束日期"), null=True, blank=True)
    end_reason = models.CharField(_("结束原因"), max_length=200, blank=True)
    site = models.CharField(_("集中隔离点"), max_length=100, blank=True)
    transferred_to = models.OneToOneField("self", null=True, blank=True, on_delete=models.SET_NULL,
                                          related_name="transferred_from", verbose_name=_("转入的集中隔离"))
    cadre = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("包保干部"))
    medic = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("医护人员"))
    police = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+", verbose_name=_("民警"))
    volunteer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", verbose_name=_("志愿者"))
    family_contact_name = models.CharField(_("家属联系人"), max_length=50, blank=True)
    family_contact_phone = models.CharField(_("家属电话"), max_length=20, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("登记人"))

    objects = ObservationQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid": "household__grid_id", "household": "household_id"}

    class Meta:
        ordering = ["planned_end_on", "id"]
        verbose_name = _("隔离观察")
        constraints = [
            models.UniqueConstraint(fields=["person"], condition=models.Q(status="active"),
                                    name="observation_one_active_per_person"),
            models.CheckConstraint(condition=models.Q(planned_end_on__gte=models.F("starts_on")),
                                   name="observation_end_after_start"),
        ]
        indexes = [models.Index(fields=["community", "status"])]

    def __str__(self):
        return f"{self.person} {self.get_kind_display()}"


class ObservationChange(models.Model):
    """The observation's life: start, extension, policy change, release, early end, transfer."""

    class Kind(models.TextChoices):
        START = "start", _("开始")
        EXTEND = "extend", _("延长")
        RELEASE = "release", _("解除")
        END_EARLY = "end_early", _("提前结束")
        TRANSFER = "transfer", _("转集中隔离")
        TEAM = "team", _("调整责任人")

    observation = models.ForeignKey(Observation, on_delete=models.CASCADE, related_name="changes")
    community = models.ForeignKey("places.Community", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("变更"), max_length=12, choices=Kind.choices)
    planned_end_on = models.DateField(_("计划解除日期"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("操作人"))
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid": "observation__household__grid_id",
                    "household": "observation__household_id"}

    class Meta:
        ordering = ["created_at", "id"]


class Symptom(models.TextChoices):
    FEVER = "fever", _("发热")
    COUGH = "cough", _("咳嗽")
    SORE_THROAT = "sore_throat", _("咽痛")
    FATIGUE = "fatigue", _("乏力")
    SHORT_BREATH = "short_breath", _("呼吸困难")
    LOSS_OF_SMELL = "loss_of_smell", _("嗅觉味觉减退")
    DIARRHOEA = "diarrhoea", _("腹泻")
    MUSCLE_PAIN = "muscle_pain", _("肌肉酸痛")


class CheckWindow(models.TextChoices):
    MORNING = "morning", _("上午")
    AFTERNOON = "afternoon", _("下午")


AFTERNOON_FROM = datetime.time(12)


def check_window(taken_at) -> str:
    """The window of a check: morning before 12:00 local time, afternoon from 12:00 on."""
    return CheckWindow.MORNING if timezone.localtime(taken_at).time() < AFTERNOON_FROM else CheckWindow.AFTERNOON


class Reporter(models.TextChoices):
    SELF = "self", _("本人/家属申报")
    STAFF_DOOR = "staff_door", _("工作人员上门")
    STAFF_PHONE = "staff_phone", _("工作人员电话")


class HealthCheck(models.Model):
    """One temperature and symptom check of one observed person (体温/症状记录).

    `client_id` makes a phone's retry on a bad network land once.
    """

    observation = models.ForeignKey(Observation, on_delete=models.CASCADE, related_name="checks")
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="health_checks")
    community = models.ForeignKey("places.Community", on_delete=models.CASCADE, related_name="+")
    household = models.ForeignKey("places.Household", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    taken_at = models.DateTimeField(_("测量时间"))
    day = models.DateField(_("日期"))
    window = models.CharField(_("时段"), max_length=10, choices=CheckWindow.choices)
    temperature = models.DecimalField(_("体温(℃)"), max_digits=3, decimal_places=1)
    symptoms = models.JSONField(_("症状"), default=list, blank=True)
    reporter = models.CharField(_("填报方式"), max_length=12, choices=Reporter.choices)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("填报人"))
    client_id = models.UUIDField(null=True, blank=True, unique=True)
    abnormal = models.BooleanField(_("异常"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid": "household__grid_id", "household": "household_id"}

    class Meta:
        ordering = ["-taken_at", "-id"]
        verbose_name = _("体温/症状记录")
        indexes = [models.Index(fields=["observation", "day", "window"]),
                   models.Index(fields=["community", "day", "window"])]

    def symptom_labels(self) -> list[str]:
        return [str(Symptom(code).label) for code in self.symptoms if code in Symptom.values]


class HealthAlert(models.Model):
    """A check at or above 37.3 °C or with symptoms, raised to the observation's team until handled."""

    check_record = models.OneToOneField(HealthCheck, on_delete=models.CASCADE, related_name="alert")
    observation = models.ForeignKey(Observation, on_delete=models.CASCADE, related_name="alerts")
    community = models.ForeignKey("places.Community", on_delete=models.CASCADE, related_name="+")
    household = models.ForeignKey("places.Household", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    reason = models.CharField(_("异常情况"), max_length=200)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("处理人"))
    handled_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    handling_note = models.CharField(_("处理情况"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid": "household__grid_id", "household": "household_id"}

    class Meta:
        ordering = ["handled_at", "-created_at"]
        verbose_name = _("健康异常提醒")


class Case(TimeStamped):
    """One person who tested positive (阳性感染者), from confirmation to recovery or closing."""

    class Source(models.TextChoices):
        TEST_RESULT = "test_result", _("核酸检测阳性")
        HOSPITAL_REPORT = "hospital_report", _("医院报告")
        SELF_REPORT = "self_report", _("本人报告")

    class Severity(models.TextChoices):
        ASYMPTOMATIC = "asymptomatic", _("无症状感染者")
        MILD = "mild", _("轻型")
        MODERATE = "moderate", _("中型")
        SEVERE = "severe", _("重型")
        CRITICAL = "critical", _("危重型")

    class Status(models.TextChoices):
        FOUND = "found", _("已发现待转运")
        TRANSFERRED = "transferred", _("转运中")
        IN_HOSPITAL = "in_hospital", _("住院治疗")
        IN_CENTRAL_QUARANTINE = "in_central_quarantine", _("方舱/集中隔离")
        RECOVERED = "recovered", _("已治愈")
        CLOSED = "closed", _("已结案")

    OPEN_STATUSES = (Status.FOUND, Status.TRANSFERRED, Status.IN_HOSPITAL, Status.IN_CENTRAL_QUARANTINE)

    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="cases",
                                  verbose_name=_("社区"))
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="cases", verbose_name=_("人员"))
    household = models.ForeignKey("places.Household", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="cases", verbose_name=_("发现时住址"))
    source = models.CharField(_("来源"), max_length=20, choices=Source.choices)
    source_ref = models.CharField(_("来源说明"), max_length=100, blank=True)
    confirmed_at = models.DateTimeField(_("确诊时间"))
    severity = models.CharField(_("临床分型"), max_length=14, choices=Severity.choices, default=Severity.ASYMPTOMATIC)
    status = models.CharField(_("状态"), max_length=24, choices=Status.choices, default=Status.FOUND)
    location = models.CharField(_("目前所在"), max_length=100, blank=True)
    note = models.CharField(_("备注"), max_length=300, blank=True)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", verbose_name=_("登记人"))
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid": "household__grid_id"}

    class Meta:
        ordering = ["-confirmed_at", "-id"]
        verbose_name = _("阳性感染者")
        constraints = [models.UniqueConstraint(fields=["person"], condition=models.Q(status__in=[
            "found", "transferred", "in_hospital", "in_central_quarantine"]), name="case_one_open_per_person")]
        indexes = [models.Index(fields=["community", "status"])]

    def __str__(self):
        return f"{self.person} {self.get_status_display()}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class CaseEvent(models.Model):
    """One line of a case's timeline: opened, status and severity changes, contacts, transfers, zones."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("登记")
        STATUS = "status", _("状态变更")
        SEVERITY = "severity", _("分型变更")
        CONTACT = "contact", _("密接")
        TRANSFER = "transfer", _("转运")
        ZONE = "zone", _("区域")
        NOTE = "note", _("备注")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    community = models.ForeignKey("places.Community", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    note = models.CharField(_("说明"), max_length=300)
    # The contact a contact line names: the timeline tells it without names to whom that contact is out of scope.
    contact = models.ForeignKey("Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                           related_name="+", verbose_name=_("操作人"))
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid": "case__household__grid_id"}

    class Meta:
        ordering = ["created_at", "id"]


class ContactKind(models.TextChoices):
    CLOSE = "close", _("密切接触者")
    SECONDARY = "secondary", _("次密切接触者")


class ContactPolicy(StreetPolicy):
    """Which observation a contact of a kind gets in a street (密接集中隔离, 次密接居家隔离 unless set).

    One per kind, without a date: a change applies from now on, running observations stay as they are.
    """

    kind = models.CharField(_("接触类型"), max_length=10, choices=ContactKind.choices)
    observation_kind = models.CharField(_("管控方式"), max_length=20, choices=ObservationKind.choices)

    class Meta:
        verbose_name = _("密接管控政策")
        constraints = [models.UniqueConstraint(fields=["street", "kind"], name="contact_policy_one_per_kind")]


class Contact(TimeStamped):
    """A person linked to a case as a close or secondary contact (密接/次密接).

    A secondary contact names the close contact it came through (`via`), so contacts of
    contacts read as a chain. One person is linked to one case once.
    """

    class Source(models.TextChoices):
        HOUSEHOLD = "household", _("同住家庭成员")
        WORKPLACE = "workplace", _("同单位/同场所")
        CO_LOCATION = "co_location", _("时空交集")
        MANUAL = "manual", _("流调/手工登记")

    class Status(models.TextChoices):
        ACTIVE = "active", _("管控中")
        REMOVED = "removed", _("已排除")

    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="contacts",
                                  verbose_name=_("社区"))
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("关联病例"))
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="contacts",
                               verbose_name=_("人员"))
    kind = models.CharField(_("接触类型"), max_length=10, choices=ContactKind.choices)
    source = models.CharField(_("来源"), max_length=12, choices=Source.choices)
    last_exposure_at = models.DateTimeField(_("末次接触时间"))
    via = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="secondary_contacts",
                            verbose_name=_("经由密接"))
    observation = models.ForeignKey(Observation, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="contacts", verbose_name=_("隔离观察"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", verbose_name=_("登记人"))

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid": "person__household__grid_id"}

    class Meta:
        ordering = ["kind", "id"]
        verbose_name = _("密接/次密接")
        constraints = [models.UniqueConstraint(fields=["case", "person"], name="contact_once_per_case")]


class Destination(TimeStamped):
    """Where transfers go: a designated hospital, a makeshift hospital (方舱) or a central quarantine site."""

    class Kind(models.TextChoices):
        HOSPITAL = "hospital", _("定点医院")
        MAKESHIFT_HOSPITAL = "makeshift_hospital", _("方舱医院")
        CENTRAL_QUARANTINE = "central_quarantine", _("集中隔离点")

    street = models.ForeignKey("places.Street", on_delete=models.CASCADE, related_name="destinations",
                               verbose_name=_("街道"))
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    capacity = models.PositiveIntegerField(_("床位/房间数"), null=True, blank=True)
    active = models.BooleanField(_("启用"), default=True)

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"street": "street_id", "community_any": "street__communities",
                    "grid_any": "street__communities__grids"}

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("转运目的地")
        constraints = [models.UniqueConstraint(fields=["street", "name"], name="destination_unique_name")]

    def __str__(self):
        return self.name


class Transfer(TimeStamped):
    """Moving people (a case, a batch of contacts) to a hospital or a central quarantine site (转运)."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("待转运")
        PICKED_UP = "picked_up", _("已接走")
        ARRIVED = "arrived", _("已送达")
        CANCELLED = "cancelled", _("已取消")

    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="transfers",
                                  verbose_name=_("社区"))
    destination_kind = models.CharField(_("去向类型"), max_length=20, choices=Destination.Kind.choices)
    destination = models.ForeignKey(Destination, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="transfers", verbose_name=_("目的地"))
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="transfers",
                             verbose_name=_("关联病例"))
    vehicle = models.CharField(_("车辆"), max_length=50, blank=True)
    crew = models.CharField(_("随车人员"), max_length=100, blank=True)
    window_start = models.DateTimeField(_("计划接人时间起"))
    window_end = models.DateTimeField(_("计划接人时间止"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PLANNED)
    picked_up_at = models.DateTimeField(_("接走时间"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    note = models.CharField(_("备注"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("登记人"))

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid_any": "passengers__household__grid_id"}

    class Meta:
        ordering = ["window_start", "id"]
        verbose_name = _("转运")
        constraints = [
            models.CheckConstraint(condition=models.Q(window_end__gte=models.F("window_start")),
                                   name="transfer_window_order"),
            models.CheckConstraint(condition=models.Q(arrived_at__isnull=True) | models.Q(picked_up_at__isnull=False),
                                   name="transfer_arrival_after_pickup_recorded"),
        ]
        indexes = [models.Index(fields=["community", "status", "window_start"])]


class TransferPassenger(models.Model):
    """One person on a transfer, with the case or contact that put them there."""

    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="passengers")
    community = models.ForeignKey("places.Community", on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="transfers",
                               verbose_name=_("人员"))
    household = models.ForeignKey("places.Household", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", verbose_name=_("接人地址"))
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="transfers")

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid": "household__grid_id"}

    class Meta:
        ordering = ["id"]
        verbose_name = _("转运人员")
        constraints = [models.UniqueConstraint(fields=["transfer", "person"], name="transfer_passenger_once")]
