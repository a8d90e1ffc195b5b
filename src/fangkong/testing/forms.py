"""Forms of the testing pages."""

import uuid

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangkong.people.models import Tag
from fangkong.testing.models import POOL_SIZES, Result, RoundExemption, SamplingSite, TestRound

# ---------------------------------------------------------------------------
# Rounds, sites and exemptions
# ---------------------------------------------------------------------------

_DATE = forms.DateInput(attrs={"type": "date"})
_TIME = forms.TimeInput(attrs={"type": "time"})


class RoundCreateForm(forms.Form):
    community = forms.ModelChoiceField(label=_("社区"), queryset=None, empty_label=None)
    name = forms.CharField(label=_("名称"), max_length=100)
    on = forms.DateField(label=_("采样日期"), widget=_DATE)
    kind = forms.ChoiceField(label=_("类型"), choices=TestRound.Kind.choices)
    pool_size = forms.TypedChoiceField(label=_("混采人数(人/管)"), coerce=int, initial=10,
                                       choices=[(size, str(size)) for size in POOL_SIZES])
    grids = forms.ModelMultipleChoiceField(label=_("网格"), queryset=None, required=False,
                                           widget=forms.CheckboxSelectMultiple, help_text=_("不选表示全社区"))
    zone = forms.ModelChoiceField(label=_("区域"), queryset=None, required=False, help_text=_("仅区域筛查"))
    key_tags = forms.MultipleChoiceField(label=_("重点人群"), choices=Tag.choices, required=False,
                                         widget=forms.CheckboxSelectMultiple, help_text=_("仅重点人群筛查"))
    infant_months = forms.IntegerField(label=_("免采婴幼儿月龄(以下)"), min_value=0, max_value=216, initial=36)
    exempt_away = forms.BooleanField(label=_("外出人员免采"), required=False, initial=True)
    exempt_in_hospital = forms.BooleanField(label=_("住院人员免采"), required=False, initial=True)
    exempt_positive = forms.BooleanField(label=_("阳性感染者免采"), required=False, initial=True)

    def __init__(self, *args, communities, grids, zones, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities
        self.fields["grids"].queryset = grids
        self.fields["grids"].label_from_instance = lambda grid: f"{grid.community.name} {grid.name}"
        self.fields["zone"].queryset = zones


class ExemptionForm(forms.Form):
    who = forms.CharField(label=_("人员"), max_length=50, help_text=_("姓名、拼音首字母、证件号码或手机号"))
    reason = forms.ChoiceField(label=_("原因"), choices=RoundExemption.Reason.choices)
    note = forms.CharField(label=_("说明"), max_length=200, required=False)


class SiteForm(forms.Form):
    community = forms.ModelChoiceField(label=_("社区"), queryset=None, empty_label=None)
    name = forms.CharField(label=_("名称"), max_length=100)
    kind = forms.ChoiceField(label=_("类型"), choices=SamplingSite.Kind.choices)
    address = forms.CharField(label=_("位置"), max_length=200, required=False)
    opens_at = forms.TimeField(label=_("开始时间"), required=False, widget=_TIME)
    closes_at = forms.TimeField(label=_("结束时间"), required=False, widget=_TIME)
    team = forms.ModelMultipleChoiceField(label=_("采样人员"), queryset=None, required=False,
                                          widget=forms.CheckboxSelectMultiple)
    roster = forms.ModelMultipleChoiceField(label=_("上门名单"), queryset=None, required=False,
                                            help_text=_("仅上门采样队;封控单元可用下方“按区域加入”"))
    active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args, communities, team, households, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities
        self.fields["team"].queryset = team
        self.fields["team"].label_from_instance = lambda user: f"{user.display_name or user.username}"
        self.fields["roster"].queryset = households


class RosterFromZoneForm(forms.Form):
    zone = forms.ModelChoiceField(label=_("区域"), queryset=None)

    def __init__(self, *args, zones, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["zone"].queryset = zones


# ---------------------------------------------------------------------------
# Sampling
# ---------------------------------------------------------------------------


# ---------------------------------------------------------------------------
# Lab results and positive tubes
# ---------------------------------------------------------------------------

class ResultImportForm(forms.Form):
    """A lab's result file for one community."""

    file = forms.FileField(label=_("结果文件"), help_text=_(".xlsx 或 .csv:条码、结果、时间、检测机构,列的顺序不限"))
    community = forms.ModelChoiceField(label=_("社区"), queryset=None)

    def __init__(self, *args, communities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities
        if len(communities) == 1:
            self.fields["community"].initial = communities[0].pk


# ---------------------------------------------------------------------------
# Coverage and figures
# ---------------------------------------------------------------------------

class AntigenForm(forms.Form):
    """An antigen self-test of one household member, phone first; the server makes the client_id so
    a resent page lands once."""

    person = forms.TypedChoiceField(label=_("检测人"), coerce=int)
    result = forms.ChoiceField(label=_("检测结果"), choices=Result.choices, widget=forms.RadioSelect)
    taken_at = forms.DateTimeField(label=_("检测时间"),
                                   widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                              format="%Y-%m-%dT%H:%M"))
    photo = forms.FileField(label=_("检测卡照片(可不传)"), required=False,
                            widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}))
    client_id = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, members=(), **kwargs):
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("client_id", uuid.uuid4())
        initial.setdefault("taken_at", timezone.localtime().replace(second=0, microsecond=0))
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [(member.pk, member.name) for member in members]
        if len(members) == 1:
            self.fields["person"].initial = members[0].pk
