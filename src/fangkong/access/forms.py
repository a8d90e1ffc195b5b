"""Forms of the checkpoint, pass, passage, self-scan and tracing pages; the services validate the rules."""

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.access.models import Checkpoint, Direction, Pass, Result
from fangkong.access.queries import checkpoints_for
from fangkong.places.queries import communities_for, compounds_for, households_for
from fangkong.volunteers.queries import posts_for

_TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
_MOMENT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class CheckpointForm(forms.Form):
    community = forms.ModelChoiceField(label=_("社区"), queryset=None)
    name = forms.CharField(label=_("卡口名称"), max_length=100)
    compound = forms.ModelChoiceField(label=_("小区"), required=False, queryset=None,
                                      help_text=_("不选则为社区卡口"))
    direction = forms.ChoiceField(label=_("通行方向"), choices=Checkpoint.Directions.choices,
                                  initial=Checkpoint.Directions.BOTH)
    opens_at = forms.TimeField(label=_("开放时间"), required=False, widget=_TIME, help_text=_("不填为全天开放"))
    closes_at = forms.TimeField(label=_("关闭时间"), required=False, widget=_TIME)
    post = forms.ModelChoiceField(label=_("值守岗位"), required=False, queryset=None)
    pass_required = forms.BooleanField(label=_("出门须持出入证(封闭管理)"), required=False)
    visitors_admitted = forms.BooleanField(label=_("允许访客进入"), required=False, initial=True)
    test_within_hours = forms.IntegerField(label=_("出门须有几小时内核酸阴性"), required=False, min_value=1,
                                           max_value=168, help_text=_("如 48;不填则不查核酸"))

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities_for(actor)
        self.fields["compound"].queryset = compounds_for(actor)
        self.fields["post"].queryset = posts_for(actor, status="open")


class CheckpointEditForm(CheckpointForm):
    active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, actor=actor, **kwargs)
        del self.fields["community"]


class PassForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=Pass.Kind.choices)
    household = forms.ModelChoiceField(label=_("户"), required=False, queryset=None,
                                       help_text=_("全户共用一张证和限额"))
    person = forms.IntegerField(label=_("持证人编号"), required=False, widget=forms.HiddenInput)
    valid_from = forms.DateTimeField(label=_("生效时间"), required=False, widget=_MOMENT, help_text=_("不填为现在"))
    valid_until = forms.DateTimeField(label=_("失效时间"), widget=_MOMENT)
    quota_exits = forms.IntegerField(label=_("每期可外出次数"), required=False, min_value=1, max_value=50)
    quota_days = forms.IntegerField(label=_("每期天数"), required=False, min_value=1, max_value=60,
                                    help_text=_("如每 3 天 1 人次;都不填则不限次数"))
    note = forms.CharField(label=_("备注"), required=False, max_length=200)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["household"].queryset = households_for(actor)
        self.fields["household"].label_from_instance = lambda h: f"{h.compound}{h}"


class RevokeForm(forms.Form):
    reason = forms.CharField(label=_("注销原因"), max_length=200)


class PassFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("状态"), required=False, choices=[
        ("", _("全部")), ("current", _("有效")), ("revoked", _("已注销")), ("ended", _("已过期"))])
    kind = forms.ChoiceField(label=_("类型"), required=False, choices=[("", _("全部")), *Pass.Kind.choices])


class PassageFilterForm(forms.Form):
    checkpoint = forms.ModelChoiceField(label=_("卡口"), required=False, queryset=None)
    day = forms.DateField(label=_("日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    result = forms.ChoiceField(label=_("结果"), required=False, choices=[("", _("全部")), *Result.choices])
    conflict = forms.BooleanField(label=_("只看冲突"), required=False)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["checkpoint"].queryset = checkpoints_for(actor)


class VisitorForm(forms.Form):
    """A visitor without a code, at the poster or at the guard's table."""

    name = forms.CharField(label=_("姓名"), max_length=50)
    phone = forms.CharField(label=_("手机号"), max_length=20, widget=forms.TextInput(attrs={"type": "tel"}))
    id_number = forms.CharField(label=_("身份证号"), max_length=30, required=False)
    reason = forms.CharField(label=_("事由"), max_length=100, required=False)
    plate = forms.CharField(label=_("车牌号"), max_length=20, required=False)
    temperature = forms.CharField(label=_("体温 ℃"), max_length=5, required=False,
                                  widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    direction = forms.ChoiceField(label=_("方向"), choices=Direction.choices, initial=Direction.IN)


class SelfScanForm(forms.Form):
    """A resident at the poster: who of the household, in or out."""

    person = forms.IntegerField(widget=forms.HiddenInput)
    direction = forms.ChoiceField(choices=Direction.choices)
    temperature = forms.CharField(label=_("体温 ℃"), max_length=5, required=False)


class TraceForm(forms.Form):
    person = forms.IntegerField(widget=forms.HiddenInput)
    start = forms.DateTimeField(label=_("开始时间"), widget=_MOMENT)
    end = forms.DateTimeField(label=_("结束时间"), widget=_MOMENT)
    minutes = forms.IntegerField(label=_("前后分钟数"), initial=30, min_value=1, max_value=240)


class TraceContactsForm(forms.Form):
    case = forms.ModelChoiceField(label=_("添加为以下病例的密接"), queryset=None)

    def __init__(self, *args, cases, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case"].queryset = cases
