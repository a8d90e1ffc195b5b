"""Console forms for following people; they parse input, services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.screening.models import Color, ContactOutcome


# Follow-ups and the four colours

class FollowUpContactForm(forms.Form):
    outcome = forms.ChoiceField(label=_("联系结果"), choices=ContactOutcome.choices, widget=forms.RadioSelect)
    cooperating = forms.NullBooleanField(label=_("是否配合"), required=False, widget=forms.Select(choices=[
        ("unknown", _("未变化")), ("true", _("配合")), ("false", _("不配合"))]))
    verified = forms.NullBooleanField(label=_("信息已核实"), required=False, widget=forms.Select(choices=[
        ("unknown", _("未变化")), ("true", _("已核实")), ("false", _("待核实"))]))
    left_community = forms.NullBooleanField(label=_("已离开本辖区"), required=False, widget=forms.Select(choices=[
        ("unknown", _("未变化")), ("true", _("已离开")), ("false", _("在本辖区"))]))
    note = forms.CharField(label=_("情况说明"), max_length=300, required=False)


class FollowUpOverrideForm(forms.Form):
    color = forms.ChoiceField(label=_("调整为"), choices=[("", _("取消人工调整,按实际情况计算"))] + Color.choices,
                              required=False)
    reason = forms.CharField(label=_("调整原因"), max_length=200)


class FollowUpAssignForm(forms.Form):
    responsible = forms.ModelChoiceField(label=_("责任人"), queryset=None, required=False, empty_label=_("不指定"))

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["responsible"].queryset = candidates


class FollowUpCloseForm(forms.Form):
    reason = forms.CharField(label=_("结束原因"), max_length=200)


class ColorFilterForm(forms.Form):
    color = forms.ChoiceField(label=_("颜色"), choices=[("", _("全部"))] + Color.choices, required=False)
    grid = forms.ModelChoiceField(label=_("网格"), queryset=None, required=False, empty_label=_("全部网格"))

    def __init__(self, *args, grids, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grid"].queryset = grids



# Risk areas and arrivals


# Verification lists


# Screening rounds
