"""Following people who arrive: risk areas, arrivals, the four colours, verification lists, screening rounds."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangkong.core.models import TimeStamped
from fangkong.core.scope import ScopedQuerySet


class RiskLevel(models.TextChoices):
    HIGH = "high", _("高风险")
    MEDIUM = "medium", _("中风险")
    LOW = "low", _("低风险")


class RiskArea(TimeStamped):
    """An administrative division declared a risk area by the authorities, for a window of days.

    Kept by street staff for the whole street; an arrival from inside the division (the code
    itself or any division under it) during the window counts as exposed.
    """

    street = models.ForeignKey("places.Street", on_delete=models.CASCADE, related_name="risk_areas",
                               verbose_name=_("街道"))
    division_code = models.CharField(_("行政区划代码"), max_length=6)
    division_name = models.CharField(_("地区"), max_length=100)
    level = models.CharField(_("风险等级"), max_length=10, choices=RiskLevel.choices, default=RiskLevel.HIGH)
    valid_from = models.DateField(_("起始日期"))
    valid_to = models.DateField(_("截止日期"), null=True, blank=True, help_text=_("留空表示尚未解除"))
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("登记人"))

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"street": "street_id", "community_any": "street__communities",
                    "grid_any": "street__communities__grids"}

    class Meta:
        ordering = ["-valid_from", "division_code"]
        verbose_name = _("风险地区")
        indexes = [models.Index(fields=["street", "division_code"])]

    def __str__(self):
        return f"{self.division_name}({self.get_level_display()})"


class TravelMode(models.TextChoices):
    TRAIN = "train", _("火车/高铁")
    FLIGHT = "flight", _("飞机")
    CAR = "car", _("自驾")
    BUS = "bus", _("客车")
    OTHER = "other", _("其他")


class ArrivalSource(models.TextChoices):
    SELF_REPORT = "self_report", _("本人申报")
    STAFF = "staff", _("工作人员登记")
    VERIFICATION_LIST = "verification_list", _("核查名单")
    SCREENING = "screening", _("入户排查")


class Arrival(TimeStamped):
    """Someone arriving in the community from elsewhere (返乡/来访登记)."""

    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="arrivals",
                                  verbose_name=_("社区"))
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="arrivals",
                               verbose_name=_("人员"))
    household = models.ForeignKey("places.Household", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="arrivals", verbose_name=_("居住地"))
    origin_code = models.CharField(_("来源地代码"), max_length=6)
    origin_name = models.CharField(_("来源地"), max_length=100)
    arrived_on = models.DateField(_("抵达日期"))
    travel_mode = models.CharField(_("交通方式"), max_length=10, choices=TravelMode.choices, default=TravelMode.CAR)
    travel_number = models.CharField(_("车次/航班号"), max_length=30, blank=True)
    plate = models.CharField(_("车牌号"), max_length=20, blank=True)
    source = models.CharField(_("登记来源"), max_length=20, choices=ArrivalSource.choices, default=ArrivalSource.STAFF)
    companion_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="companions", verbose_name=_("同行人"))
    notice_acknowledged_at = models.DateTimeField(_("告知书签收时间"), null=True, blank=True)
    commitment_signed_at = models.DateTimeField(_("承诺书签署时间"), null=True, blank=True)
    exposed = models.BooleanField(_("途经风险地区"), default=False)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("登记人"))
    note = models.CharField(_("备注"), max_length=200, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid": "household__grid_id", "household": "household_id"}

    class Meta:
        ordering = ["-arrived_on", "-id"]
        verbose_name = _("返乡/来访登记")
        indexes = [models.Index(fields=["community", "-arrived_on"]), models.Index(fields=["origin_code"])]

    def __str__(self):
        return f"{self.person} ← {self.origin_name} {self.arrived_on}"


class Color(models.TextChoices):
    RED = "red", _("红色")
    YELLOW = "yellow", _("黄色")
    BLUE = "blue", _("蓝色")
    GREEN = "green", _("绿色")


class FollowUpQuerySet(ScopedQuerySet):
    def active(self):
        return self.filter(closed_at=None)


class FollowUp(TimeStamped):
    """One person being followed after an arrival, a list or a visit: the facts and the colour they give.

    `risk_color` is the stored index of screening.colors.risk_color(facts), or the override when
    one is set; services recompute it whenever a fact changes.
    """

    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="follow_ups",
                                  verbose_name=_("社区"))
    person = models.OneToOneField("people.Person", on_delete=models.CASCADE, related_name="follow_up",
                                  verbose_name=_("人员"))
    reached = models.BooleanField(_("已联系上"), default=False)
    cooperating = models.BooleanField(_("配合管控"), default=True)
    verified = models.BooleanField(_("已核实"), default=False)
    exposed = models.BooleanField(_("途经风险地区"), default=False)
    under_observation = models.BooleanField(_("正在隔离/监测"), default=False)
    left_community = models.BooleanField(_("已离开本辖区"), default=False)
    computed_color = models.CharField(_("计算颜色"), max_length=10, choices=Color.choices)
    override_color = models.CharField(_("人工调整颜色"), max_length=10, choices=Color.choices, blank=True)
    override_reason = models.CharField(_("调整原因"), max_length=200, blank=True)
    override_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("调整人"))
    risk_color = models.CharField(_("四色标示"), max_length=10, choices=Color.choices, db_index=True)
    responsible = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="follow_ups", verbose_name=_("责任人"))
    reason = models.CharField(_("跟踪原因"), max_length=200, blank=True)
    next_visit_on = models.DateField(_("下次回访"), null=True, blank=True)
    last_contact_at = models.DateTimeField(_("最近联系"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    objects = FollowUpQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid": "person__household__grid_id",
                    "household": "person__household_id"}

    class Meta:
        ordering = ["next_visit_on", "id"]
        verbose_name = _("跟踪对象")
        indexes = [models.Index(fields=["community", "risk_color"]),
                   models.Index(fields=["responsible", "next_visit_on"])]

    def __str__(self):
        return f"{self.person} {self.get_risk_color_display()}"


class ObservedPerson(models.Model):
    """A person under observation now, as the health app last reported: one of the facts of the colour.

    Health calls screening, never the other way round, so screening keeps this fact itself: health
    reports each start and end (`follow_up_set_observation`), and a person not followed yet keeps
    the fact here, so a follow-up opened later starts with it.
    """

    person = models.OneToOneField("people.Person", on_delete=models.CASCADE, primary_key=True, related_name="+",
                                  verbose_name=_("人员"))
    community = models.ForeignKey("places.Community", on_delete=models.CASCADE, related_name="+",
                                  verbose_name=_("社区"))
    since = models.DateTimeField(_("报告时间"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid": "person__household__grid_id",
                    "household": "person__household_id"}

    class Meta:
        verbose_name = _("正在隔离/监测的人员")


class ColorChange(models.Model):
    """The colour history of a follow-up: every change, computed or overridden, with why and by whom."""

    follow_up = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="color_changes")
    community = models.ForeignKey("places.Community", on_delete=models.CASCADE, related_name="+")
    from_color = models.CharField(_("原颜色"), max_length=10, choices=Color.choices, blank=True)
    to_color = models.CharField(_("新颜色"), max_length=10, choices=Color.choices)
    reason = models.CharField(_("原因"), max_length=200)
    overridden = models.BooleanField(_("人工调整"), default=False)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("操作人"))
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid": "follow_up__person__household__grid_id",
                    "household": "follow_up__person__household_id"}

    class Meta:
        ordering = ["-created_at", "-id"]


class ContactOutcome(models.TextChoices):
    DOOR = "door", _("上门见面")
    PHONE = "phone", _("电话联系")
    UNREACHABLE = "unreachable", _("未联系上")


class FollowUpContact(models.Model):
    """One call or visit to a followed person, and what it established."""

    follow_up = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="contacts")
    community = models.ForeignKey("places.Community", on_delete=models.CASCADE, related_name="+")
    outcome = models.CharField(_("结果"), max_length=12, choices=ContactOutcome.choices)
    note = models.CharField(_("情况说明"), max_length=300, blank=True)
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", verbose_name=_("联系人"))
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid": "follow_up__person__household__grid_id",
                    "household": "follow_up__person__household_id"}

    class Meta:
        ordering = ["-created_at", "-id"]


class VerificationBatch(TimeStamped):
    """A list sent down from above (大数据核查名单) that must be answered before its deadline.

    Imported by a community (rows matched within it) or by the street (rows matched across its
    communities). `columns` keeps the received header order so the answer goes back in the same layout.
    """

    street = models.ForeignKey("places.Street", on_delete=models.CASCADE, related_name="verification_batches",
                               verbose_name=_("街道"))
    community = models.ForeignKey("places.Community", null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="verification_batches", verbose_name=_("社区"))
    title = models.CharField(_("名单名称"), max_length=200)
    issued_by = models.CharField(_("下发单位"), max_length=100, blank=True)
    file_name = models.CharField(_("文件名"), max_length=255)
    content_hash = models.CharField(max_length=64)
    columns = models.JSONField(_("原表列"), default=list)
    received_at = models.DateTimeField(_("接收时间"))
    deadline = models.DateTimeField(_("反馈时限"))
    row_count = models.PositiveIntegerField(_("行数"), default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("导入人"))

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"street": "street_id", "community": "community_id", "grid_any": "items__grid"}

    class Meta:
        ordering = ["deadline", "-id"]
        verbose_name = _("核查名单")
        constraints = [models.UniqueConstraint(fields=["street", "content_hash"], name="verification_batch_once")]

    def __str__(self):
        return self.title


class MatchKind(models.TextChoices):
    ID_NUMBER = "id_number", _("身份证号一致")
    PHONE = "phone", _("手机号一致")
    NAME_BIRTH = "name_birth", _("姓名和出生日期一致")
    AMBIGUOUS = "ambiguous", _("匹配到多人")
    NONE = "none", _("未匹配")
    MANUAL = "manual", _("人工匹配")


class Answer(models.TextChoices):
    PRESENT_VERIFIED = "present_verified", _("在本辖区,已核实")
    LEFT = "left", _("已离开")
    NOT_FOUND = "not_found", _("查无此人")
    CONTROLLED = "controlled", _("已落实管控")


class VerificationItem(models.Model):
    """One row of a verification list, its match in the registry, where it was assigned and its answer."""

    batch = models.ForeignKey(VerificationBatch, on_delete=models.CASCADE, related_name="items")
    line = models.PositiveIntegerField(_("行号"))
    cells = models.JSONField(_("原表内容"), default=list)
    name = models.CharField(_("姓名"), max_length=50, blank=True)
    id_number = models.CharField(_("证件号码"), max_length=30, blank=True)
    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    origin = models.CharField(_("来源地"), max_length=100, blank=True)
    reason = models.CharField(_("核查原因"), max_length=200, blank=True)
    person = models.ForeignKey("people.Person", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="verification_items", verbose_name=_("匹配人员"))
    match_kind = models.CharField(_("匹配方式"), max_length=12, choices=MatchKind.choices, default=MatchKind.NONE)
    community = models.ForeignKey("places.Community", null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="+", verbose_name=_("社区"))
    grid = models.ForeignKey("places.Grid", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", verbose_name=_("网格"))
    answer = models.CharField(_("核查结果"), max_length=20, choices=Answer.choices, blank=True)
    answer_note = models.CharField(_("情况说明"), max_length=300, blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("核查人"))
    answered_at = models.DateTimeField(_("核查时间"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"street": "batch__street_id", "community": "community_id", "grid": "grid_id"}

    class Meta:
        ordering = ["batch", "line"]
        verbose_name = _("核查名单行")
        constraints = [models.UniqueConstraint(fields=["batch", "line"], name="verification_item_line")]
        indexes = [models.Index(fields=["batch", "grid"]), models.Index(fields=["batch", "answer"])]


class ScreeningRound(TimeStamped):
    """One round of visiting every household of a community, or of some of its grids (排查轮次)."""

    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="screening_rounds",
                                  verbose_name=_("社区"))
    grids = models.ManyToManyField("places.Grid", blank=True, related_name="+", verbose_name=_("网格"),
                                   help_text=_("不选表示全社区"))
    name = models.CharField(_("名称"), max_length=100)
    number = models.PositiveIntegerField(_("轮次"))
    started_at = models.DateTimeField(_("开始时间"))
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("发起人"))

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid_any": "community__grids"}

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("排查轮次")
        constraints = [models.UniqueConstraint(fields=["community", "number"], name="screening_round_number")]

    def __str__(self):
        return self.name


class VisitMethod(models.TextChoices):
    DOOR = "door", _("入户")
    PHONE = "phone", _("电话")
    NOT_REACHED = "not_reached", _("未联系上")


class Anomaly(models.TextChoices):
    FEVER = "fever", _("发热")
    SYMPTOMS = "symptoms", _("咳嗽等症状")
    UNREGISTERED_ARRIVAL = "unregistered_arrival", _("未登记的外来人员")
    RISK_AREA_ARRIVAL = "risk_area_arrival", _("风险地区来人")
    OTHER = "other", _("其他")


class HouseholdVisit(models.Model):
    """One attempt to reach a household in a screening round; the latest attempt counts."""

    round = models.ForeignKey(ScreeningRound, on_delete=models.CASCADE, related_name="visits")
    household = models.ForeignKey("places.Household", on_delete=models.CASCADE, related_name="visits")
    community = models.ForeignKey("places.Community", on_delete=models.CASCADE, related_name="+")
    grid = models.ForeignKey("places.Grid", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    method = models.CharField(_("方式"), max_length=12, choices=VisitMethod.choices)
    pass_number = models.PositiveSmallIntegerField(_("第几遍"), default=1)
    people_present = models.PositiveSmallIntegerField(_("在户人数"), null=True, blank=True)
    anomalies = models.JSONField(_("异常情况"), default=list, blank=True)
    note = models.CharField(_("情况说明"), max_length=300, blank=True)
    visited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("排查人"))
    visited_at = models.DateTimeField(_("排查时间"))

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid": "grid_id", "household": "household_id"}

    class Meta:
        ordering = ["-visited_at", "-id"]
        verbose_name = _("入户排查")
        indexes = [models.Index(fields=["round", "household", "-visited_at"]), models.Index(fields=["round", "grid"])]
