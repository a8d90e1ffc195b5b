from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.places import queries
from fangkong.places.models import Venue


class GridForm(forms.Form):
    community = forms.ModelChoiceField(label=_("社区"), queryset=None)
    name = forms.CharField(label=_("网格名称"), max_length=100)

    def __init__(self, *args, actor, grid=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = queries.communities_for(actor)
        if grid is not None:
            del self.fields["community"]


class CompoundForm(forms.Form):
    name = forms.CharField(label=_("小区名称"), max_length=100)
    address = forms.CharField(label=_("地址"), max_length=200, required=False)


class BuildingForm(forms.Form):
    compound = forms.ModelChoiceField(label=_("小区"), queryset=None)
    number = forms.CharField(label=_("楼号"), max_length=20, help_text=_("如 3,地址简写 3-2-301 中的 3"))
    grid = forms.ModelChoiceField(label=_("网格"), queryset=None)

    def __init__(self, *args, actor, community, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["compound"].queryset = queries.compounds_for(actor, community=community)
        self.fields["grid"].queryset = queries.grids_for(actor, community=community)


class BuildingEditForm(BuildingForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["compound"]


class HouseholdForm(forms.Form):
    unit_number = forms.CharField(label=_("单元"), max_length=20)
    room = forms.CharField(label=_("房号"), max_length=20)
    notes = forms.CharField(label=_("备注"), max_length=200, required=False)


class HouseholdEditForm(forms.Form):
    room = forms.CharField(label=_("房号"), max_length=20)
    notes = forms.CharField(label=_("备注"), max_length=200, required=False)


class GenerateForm(forms.Form):
    floors = forms.IntegerField(label=_("层数"), min_value=1, max_value=60)
    units = forms.IntegerField(label=_("单元数"), min_value=1, max_value=20)
    rooms_per_floor = forms.IntegerField(label=_("每层户数"), min_value=1, max_value=20)


class VenueFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), required=False, choices=[("", _("全部"))] + Venue.Kind.choices)
    status = forms.ChoiceField(label=_("状态"), required=False, choices=[("", _("全部"))] + Venue.Status.choices)


class VenueForm(forms.Form):
    community = forms.ModelChoiceField(label=_("社区"), queryset=None)
    name = forms.CharField(label=_("名称"), max_length=100)
    kind = forms.ChoiceField(label=_("类型"), choices=Venue.Kind.choices)
    status = forms.ChoiceField(label=_("状态"), choices=Venue.Status.choices)
    grid = forms.ModelChoiceField(label=_("网格"), queryset=None, required=False)
    compound = forms.ModelChoiceField(label=_("小区"), queryset=None, required=False)
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    contact_name = forms.CharField(label=_("负责人"), max_length=50, required=False)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    notes = forms.CharField(label=_("备注"), max_length=200, required=False)

    def __init__(self, *args, actor, venue=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = queries.communities_for(actor)
        self.fields["grid"].queryset = queries.grids_for(actor)
        self.fields["compound"].queryset = queries.compounds_for(actor)
        if venue is not None:
            del self.fields["community"]

    def values(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "community"}
