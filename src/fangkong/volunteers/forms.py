"""Forms of the post page; the services validate the rules."""

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.places.queries import buildings_for, communities_for, compounds_for
from fangkong.volunteers.models import Post
from fangkong.volunteers.queries import live_zones_for


class PostForm(forms.Form):
    community = forms.ModelChoiceField(label=_("社区"), queryset=None)
    name = forms.CharField(label=_("岗位名称"), max_length=100)
    kind = forms.ChoiceField(label=_("类型"), choices=Post.Kind.choices)
    compound = forms.ModelChoiceField(label=_("小区"), required=False, queryset=None)
    building = forms.ModelChoiceField(label=_("楼栋"), required=False, queryset=None)
    zone = forms.ModelChoiceField(label=_("所属区域"), required=False, queryset=None)
    hours_per_day = forms.IntegerField(label=_("每日在岗小时"), initial=24, min_value=1, max_value=24)
    headcount = forms.IntegerField(label=_("同时在岗人数"), initial=1, min_value=1, max_value=50)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities_for(actor)
        self.fields["compound"].queryset = compounds_for(actor).select_related("community")
        self.fields["building"].queryset = buildings_for(actor).select_related("compound")
        self.fields["building"].label_from_instance = lambda building: f"{building.compound}{building}"
        self.fields["zone"].queryset = live_zones_for(actor)
