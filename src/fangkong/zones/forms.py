"""Forms of the zone pages."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangkong.places.numbers import normalize_building_number, normalize_room, normalize_unit_number
from fangkong.places.queries import buildings_for, compounds_for, households_for
from fangkong.zones.models import CareCheck, Level, MedicalException, Zone
from fangkong.zones.places import place_fields
from fangkong.zones.queries import change_places

# ---------------------------------------------------------------------------
# Zones and their unlock dates
# ---------------------------------------------------------------------------

DATE = forms.DateInput(attrs={"type": "date"})
REASON = forms.TextInput(attrs={"autocomplete": "off"})
OVERRIDE_HELP = _("区域已有同级或更严格的管控、或未达解封条件时,社区工作人员可填写原因强制操作(将记录在案)")


class ZoneFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("状态"), required=False, choices=[
        ("", _("待确认和生效中")), (Zone.Status.PROPOSED, _("待确认")), (Zone.Status.ACTIVE, _("生效中")),
        ("ended", _("已结束"))])
    level = forms.ChoiceField(label=_("区域类型"), required=False, choices=[("", _("全部类型")), *Level.choices])


class AcceptForm(forms.Form):
    guarded = forms.BooleanField(label=_("设24小时值守岗"), required=False)
    rules = forms.CharField(label=_("管控要求"), required=False, max_length=2000,
                            widget=forms.Textarea(attrs={"rows": 2}))


class DismissForm(forms.Form):
    reason = forms.CharField(label=_("不采纳原因"), max_length=300, widget=REASON)


def _place_choice(place) -> tuple[str, str]:
    return place_fields(place)["place_key"], str(place)


class ChangeForm(forms.Form):
    """A new level and/or a place around the zone (escalation) or one level inside it (de-escalation)."""

    level = forms.ChoiceField(label=_("区域类型"), choices=Level.choices)
    place = forms.ChoiceField(label=_("范围"))
    reason = forms.CharField(label=_("调整原因"), max_length=300, widget=REASON)
    override_reason = forms.CharField(label=_("强制操作原因"), required=False, max_length=300, help_text=OVERRIDE_HELP)

    def __init__(self, *args, zone: Zone, **kwargs):
        super().__init__(*args, initial={"level": zone.level, "place": zone.place_key}, **kwargs)
        places = change_places(zone)
        self.places = {place_fields(place)["place_key"]: place for place in places}
        self.fields["place"].choices = [(zone.place_key, _("%(place)s(不变)") % {"place": zone.place_label}),
                                        *(_place_choice(place) for place in places)]

    def place_obj(self):
        return self.places.get(self.cleaned_data["place"])


class LiftForm(forms.Form):
    note = forms.CharField(label=_("解封说明"), required=False, max_length=300, widget=REASON)
    override_reason = forms.CharField(label=_("强制解封原因"), required=False, max_length=300, help_text=OVERRIDE_HELP)


class RoundForm(forms.Form):
    on = forms.DateField(label=_("采样日期"), widget=DATE, initial=timezone.localdate)
    negative = forms.TypedChoiceField(label=_("结果"), coerce=lambda value: value == "1",
                                      choices=[("1", _("全员阴性")), ("0", _("发现阳性"))])
    note = forms.CharField(label=_("说明"), required=False, max_length=200)


class DrawForm(forms.Form):
    """Level, then the place: a compound, optionally narrowed to a building, a unit and a room."""

    level = forms.ChoiceField(label=_("区域类型"), choices=Level.choices)
    compound = forms.ModelChoiceField(label=_("小区"), queryset=None)
    building = forms.CharField(label=_("楼号"), required=False, max_length=20, help_text=_("不填则划定整个小区"))
    unit = forms.CharField(label=_("单元"), required=False, max_length=20)
    room = forms.CharField(label=_("房号"), required=False, max_length=20)
    reason = forms.CharField(label=_("划定原因"), max_length=300, widget=REASON)
    rules = forms.CharField(label=_("管控要求"), required=False, max_length=2000,
                            widget=forms.Textarea(attrs={"rows": 2}))
    guarded = forms.BooleanField(label=_("设24小时值守岗"), required=False)
    override_reason = forms.CharField(label=_("强制操作原因"), required=False, max_length=300, help_text=OVERRIDE_HELP)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.fields["compound"].queryset = compounds_for(actor).order_by("name")
        self.place = None

    def clean(self):
        data = super().clean()
        compound = data.get("compound")
        if compound is not None:
            self.place = self._narrow(compound, data)
        return data

    def _narrow(self, compound, data):
        """The compound, or the building, unit and room named inside it; None (with the error) when one is missing."""
        place = compound
        steps = [("building", self._building, _("该小区没有这个楼号")), ("unit", self._unit, _("该楼栋没有这个单元")),
                 ("room", self._room, _("该单元没有这个房号"))]
        for name, find, missing in steps:
            value = (data.get(name) or "").strip()
            if not value:
                break
            place = find(place, value)
            if place is None:
                self.add_error(name, missing)
                return None
        return place

    def _building(self, compound, number):
        return buildings_for(self.actor, compound=compound).filter(number=normalize_building_number(number)).first()

    @staticmethod
    def _unit(building, number):
        return building.units.filter(number=normalize_unit_number(number)).first()

    def _room(self, unit, room):
        return households_for(self.actor, unit=unit).filter(room=normalize_room(room)).first()


class ZonePolicyForm(forms.Form):
    level = forms.ChoiceField(label=_("区域类型"), choices=Level.choices)
    days_without_positive = forms.IntegerField(label=_("无新增阳性天数"), min_value=1, max_value=60)
    negative_rounds = forms.IntegerField(label=_("核酸阴性轮次"), min_value=0, max_value=30)
    effective_from = forms.DateField(label=_("生效日期"), widget=DATE, initial=timezone.localdate)


# ---------------------------------------------------------------------------
# Care inside zones
# ---------------------------------------------------------------------------


class CareCheckForm(forms.Form):
    """One tap on the care page: 正常 / 需要帮助 (with what is needed) / 未联系上."""

    outcome = forms.ChoiceField(label=_("情况"), choices=CareCheck.Outcome.choices)
    note = forms.CharField(label=_("需要什么"), required=False, max_length=300)


class CareAssignForm(forms.Form):
    """Who looks in on the person each day; empty clears it."""

    assignee = forms.ModelChoiceField(label=_("责任人"), queryset=None, required=False)

    def __init__(self, *args, assignees, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignees


class MedicalExceptionForm(forms.Form):
    person = forms.ModelChoiceField(label=_("人员"), queryset=None)
    need = forms.ChoiceField(label=_("就医需求"), choices=MedicalException.Need.choices)
    destination = forms.CharField(label=_("前往"), required=False, max_length=100,
                                  widget=forms.TextInput(attrs={"placeholder": _("医院或药店")}))
    note = forms.CharField(label=_("说明"), required=False, max_length=300)
    valid_on = forms.DateField(label=_("日期"), required=False, widget=DATE, help_text=_("留空为今天"))

    def __init__(self, *args, residents, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = residents
        self.fields["person"].label_from_instance = lambda person: (
            f"{person.name} {person.household.shorthand}" if person.household_id else person.name)
