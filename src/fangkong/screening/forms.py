"""Console forms for following people; they parse input, services decide."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.core.errors import DomainError
from fangkong.core.idnumbers import compact
from fangkong.core.uploads import check_upload_size
from fangkong.people.models import IdType
from fangkong.places.models import Community, Household
from fangkong.places.numbers import normalize_building_number, normalize_room, normalize_unit_number
from fangkong.places.queries import communities_for, find_household_for
from fangkong.screening.divisions import search_divisions
from fangkong.screening.models import Anomaly, Answer, Color, ContactOutcome, RiskLevel, TravelMode, VisitMethod
from fangkong.screening.queries import household_at

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

def origin_code_of(text: str) -> str:
    """The division code a 来源地 box holds: a picked suggestion ('湖北省武汉市武昌区 420106'), a bare code,
    or a name that names exactly one division; '' when it names none or several."""
    text = compact(text)
    code = re.search(r"\d{6}", text)
    if code:
        return code.group(0)
    found = search_divisions(text, limit=2)
    exact = [d for d in found if d.full_name == text]
    return (exact or found)[0].code if len(exact) == 1 or len(found) == 1 else ""


class OriginField(forms.CharField):
    def __init__(self, **kwargs):
        super().__init__(label=_("从哪里来"), max_length=60, widget=forms.TextInput(attrs={
            "list": "division-options", "autocomplete": "off", "placeholder": _("输入地名,如 武昌"),
            "data-divisions": "1"}), help_text=_("输入省、市、区县名称后从提示中选择"), **kwargs)

    def clean(self, value):
        value = super().clean(value)
        code = origin_code_of(value)
        if not code:
            raise forms.ValidationError(_("没有找到唯一的地区“%(t)s”,请从提示中选择") % {"t": value})
        return code


class TripFields(forms.Form):
    origin = OriginField()
    arrived_on = forms.DateField(label=_("抵达日期"), widget=forms.DateInput(attrs={"type": "date"}))
    travel_mode = forms.ChoiceField(label=_("交通方式"), choices=TravelMode.choices, initial=TravelMode.TRAIN)
    travel_number = forms.CharField(label=_("车次/航班号"), max_length=30, required=False)
    plate = forms.CharField(label=_("车牌号"), max_length=20, required=False)

    def trip_values(self) -> dict:
        data = self.cleaned_data
        return {"origin_code": data["origin"], "arrived_on": data["arrived_on"], "travel_mode": data["travel_mode"],
                "travel_number": data["travel_number"], "plate": data["plate"]}


def companions_from(post) -> list[dict]:
    """Companion rows of a form (companion_name / companion_id_number / companion_relationship); blank rows skipped."""
    rows = zip(post.getlist("companion_name"), post.getlist("companion_id_number"),
               post.getlist("companion_relationship"), strict=False)
    return [{"name": name, "id_number": number, "relationship": relationship}
            for name, number, relationship in rows if (name + number + relationship).strip()]


class ArrivalPhoneForm(forms.Form):
    phone = forms.CharField(label=_("手机号"), max_length=20, widget=forms.TextInput(attrs={
        "inputmode": "tel", "autocomplete": "tel"}))


class ArrivalCodeForm(forms.Form):
    phone = forms.CharField(widget=forms.HiddenInput)
    code = forms.CharField(label=_("验证码"), max_length=6, widget=forms.TextInput(attrs={
        "inputmode": "numeric", "autocomplete": "one-time-code"}))


class SelfReportForm(TripFields):
    name = forms.CharField(label=_("姓名"), max_length=50)
    id_number = forms.CharField(label=_("身份证号"), max_length=30)
    building = forms.CharField(label=_("楼号"), max_length=10)
    unit = forms.CharField(label=_("单元"), max_length=10)
    room = forms.CharField(label=_("房号"), max_length=10)
    notice_acknowledged = forms.BooleanField(label=_("我已阅读并知晓《告知书》"),
                                             error_messages={"required": _("请阅读并勾选告知书")})
    commitment_signed = forms.BooleanField(label=_("我承诺如实申报并遵守《承诺书》"),
                                           error_messages={"required": _("请阅读并勾选承诺书")})
    field_order = ["name", "id_number", "origin", "arrived_on", "travel_mode", "travel_number", "plate",
                   "building", "unit", "room", "notice_acknowledged", "commitment_signed"]

    def __init__(self, *args, community, **kwargs):
        super().__init__(*args, **kwargs)
        self.community = community

    def clean(self):
        cleaned = super().clean()
        parts = [cleaned.get(name) for name in ("building", "unit", "room")]
        if all(parts):
            numbers = (normalize_building_number(parts[0]), normalize_unit_number(parts[1]), normalize_room(parts[2]))
            cleaned["household"] = household_at(self.community, *numbers)
            if cleaned["household"] is None:
                self.add_error("room", _("本社区没有 %(a)s 这一户,请核对楼号、单元和房号") % {"a": "-".join(numbers)})
        return cleaned


class ArrivalForm(TripFields):
    """Staff entry: the person is found by ID number, or registered; the household typed as 3-2-301."""

    community = forms.ModelChoiceField(label=_("社区"), queryset=None)
    name = forms.CharField(label=_("姓名"), max_length=50)
    id_type = forms.ChoiceField(label=_("证件类型"), choices=IdType.choices, initial=IdType.RESIDENT_ID)
    id_number = forms.CharField(label=_("证件号码"), max_length=30, help_text=_("已登记的人员按证件号自动找到"))
    phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    address = forms.CharField(label=_("住址(楼号-单元-房号)"), max_length=60, required=False,
                              widget=forms.TextInput(attrs={"placeholder": "3-2-301", "autocomplete": "off"}))
    notice_acknowledged = forms.BooleanField(label=_("已签收告知书"), required=False)
    commitment_signed = forms.BooleanField(label=_("已签署承诺书"), required=False)
    field_order = ["community", "name", "id_type", "id_number", "phone", "address", "origin", "arrived_on",
                   "travel_mode", "travel_number", "plate", "notice_acknowledged", "commitment_signed"]

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.fields["community"].queryset = communities_for(actor)
        communities = list(self.fields["community"].queryset[:2])
        if len(communities) == 1:
            self.fields["community"].initial = communities[0].pk

    def clean(self):
        cleaned = super().clean()
        cleaned["household"] = None
        text, community = cleaned.get("address"), cleaned.get("community")
        if text and community is not None:
            parts = compact(text).split("-")
            if len(parts) != 3 or not all(parts):
                self.add_error("address", _("请按 楼号-单元-房号 填写,如 3-2-301"))
                return cleaned
            numbers = (normalize_building_number(parts[0]), normalize_unit_number(parts[1]), normalize_room(parts[2]))
            try:
                cleaned["household"] = find_household_for(self.actor, community, None, *numbers)
            except Household.MultipleObjectsReturned:
                self.add_error("address", _("社区内有几个小区都有 %(a)s") % {"a": "-".join(numbers)})
                return cleaned
            if cleaned["household"] is None:
                self.add_error("address", _("%(c)s没有 %(a)s 这一户,或不在您的管辖范围内")
                               % {"c": community, "a": "-".join(numbers)})
        return cleaned

    def person_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in ("name", "id_type", "id_number", "phone")}


class RiskAreaForm(forms.Form):
    division = OriginField()
    level = forms.ChoiceField(label=_("风险等级"), choices=RiskLevel.choices)
    valid_from = forms.DateField(label=_("起始日期"), widget=forms.DateInput(attrs={"type": "date"}))
    valid_to = forms.DateField(label=_("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                               help_text=_("留空表示尚未解除"))
    note = forms.CharField(label=_("备注"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["division"].label = _("地区")


class RiskAreaEndForm(forms.Form):
    valid_to = forms.DateField(label=_("解除日期"), widget=forms.DateInput(attrs={"type": "date"}))


class UploadField(forms.FileField):
    """A spreadsheet upload, refused over the upload size limit before anything reads it."""

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if upload:
            try:
                check_upload_size(upload)
            except DomainError as err:
                raise forms.ValidationError(err.message, code=err.code) from None
        return upload


class RiskAreaImportForm(forms.Form):
    file = UploadField(label=_("风险地区表(.xlsx 或 .csv)"), widget=forms.ClearableFileInput(attrs={
        "accept": ".xlsx,.csv"}), help_text=_("列:行政区划代码、风险等级(高/中/低)、起始日期、截止日期"))


class ArrivalFilterForm(forms.Form):
    exposed = forms.TypedChoiceField(label=_("风险地区来人"), required=False, empty_value=None,
                                     coerce=lambda value: value == "1",
                                     choices=[("", _("全部")), ("1", _("来自风险地区")), ("0", _("非风险地区"))])
    since = forms.DateField(label=_("抵达日期自"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


# Verification lists

class ListImportForm(forms.Form):
    """A list as it came down: the file, its name, and the time allowed (hours, or a deadline)."""

    file = UploadField(label=_("名单文件"), help_text=_(".xlsx 或 .csv,列的顺序不限"))
    title = forms.CharField(label=_("名单名称"), max_length=200)
    issued_by = forms.CharField(label=_("下发单位"), max_length=100, required=False)
    hours = forms.IntegerField(label=_("反馈时限(小时)"), min_value=1, max_value=720, required=False, initial=4)
    deadline = forms.DateTimeField(label=_("或截止时间"), required=False,
                                   input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
                                   widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    community = forms.ModelChoiceField(label=_("社区"), queryset=Community.objects.none(), required=False,
                                       empty_label=_("全街道"))

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        communities = communities_for(actor)
        self.fields["community"].queryset = communities
        if len(communities) == 1:
            self.fields["community"].initial = communities[0].pk

    def clean(self):
        data = super().clean()
        if data.get("hours") is None and data.get("deadline") is None and not self.errors:
            self.add_error("hours", _("请填写反馈时限(小时)或截止时间"))
        return data


class ListItemAnswerForm(forms.Form):
    answer = forms.ChoiceField(label=_("核查结果"), choices=Answer.choices)
    note = forms.CharField(label=_("情况说明"), max_length=300, required=False)


class ListItemFilterForm(forms.Form):
    mine = forms.BooleanField(label=_("我的网格"), required=False)
    queue = forms.BooleanField(label=_("待分派"), required=False)
    unanswered = forms.BooleanField(label=_("未反馈"), required=False)



# Screening rounds

NEW_PERSON_ROWS = 3
ROUND_HOUSEHOLD_STATUSES = [("", _("全部")), ("pending", _("未排查")), ("not_reached", _("未联系上")),
                            ("done", _("已排查"))]


class RoundStartForm(forms.Form):
    community = forms.ModelChoiceField(label=_("社区"), queryset=None, empty_label=None)
    name = forms.CharField(label=_("名称"), max_length=100, required=False, help_text=_("留空则为“第N轮排查”"))
    grids = forms.ModelMultipleChoiceField(label=_("网格"), queryset=None, required=False,
                                           widget=forms.CheckboxSelectMultiple, help_text=_("不选表示全社区"))

    def __init__(self, *args, communities, grids, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities
        self.fields["grids"].queryset = grids
        self.fields["grids"].label_from_instance = lambda grid: f"{grid.community.name} {grid.name}"


class RoundHouseholdFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("状态"), choices=ROUND_HOUSEHOLD_STATUSES, required=False)
    grid = forms.ModelChoiceField(label=_("网格"), queryset=None, required=False, empty_label=_("全部网格"))
    building = forms.ModelChoiceField(label=_("楼栋"), queryset=None, required=False, empty_label=_("全部楼栋"))

    def __init__(self, *args, grids, buildings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grid"].queryset = grids
        self.fields["building"].queryset = buildings


class HouseholdVisitForm(forms.Form):
    """One household's visit, inline in the round's list: the method comes from the button pressed."""

    method = forms.ChoiceField(label=_("排查方式"), choices=VisitMethod.choices)
    people_present = forms.IntegerField(label=_("在户人数"), min_value=0, max_value=99, required=False)
    anomalies = forms.MultipleChoiceField(label=_("异常情况"), choices=Anomaly.choices, required=False,
                                          widget=forms.CheckboxSelectMultiple)
    note = forms.CharField(label=_("情况说明"), max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for index in range(NEW_PERSON_ROWS):
            self.fields[f"new_name_{index}"] = forms.CharField(label=_("姓名"), max_length=50, required=False)
            self.fields[f"new_id_number_{index}"] = forms.CharField(label=_("身份证号"), max_length=30, required=False)
            self.fields[f"new_phone_{index}"] = forms.CharField(label=_("手机号"), max_length=20, required=False)

    def new_person_rows(self):
        """The bound fields of each 'new person' row, for the template."""
        return [[self[f"new_{name}_{index}"] for name in ("name", "id_number", "phone")]
                for index in range(NEW_PERSON_ROWS)]

    def new_persons(self) -> list[dict]:
        """The rows filled in (any of the three), in order; the service validates them."""
        rows = []
        for index in range(NEW_PERSON_ROWS):
            row = {name: self.cleaned_data[f"new_{name}_{index}"].strip() for name in ("name", "id_number", "phone")}
            if any(row.values()):
                rows.append(row)
        return rows
