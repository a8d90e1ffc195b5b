from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from fangkong.core.converters import MAX_ID, is_id
from fangkong.core.errors import DomainError
from fangkong.core.forms import add_domain_error
from fangkong.core.idnumbers import compact
from fangkong.people.models import IdType, Residency, Sex, Tag
from fangkong.places.models import Household
from fangkong.places.queries import communities_for, compounds_for, find_household_for, grids_for
from fangkong.places.services import normalize_building_number, normalize_room, normalize_unit_number


class PersonSearchForm(forms.Form):
    q = forms.CharField(label=_("搜索"), required=False, max_length=100, widget=forms.TextInput(attrs={
        "type": "search", "placeholder": _("姓名、拼音首字母 zs、证件或手机号后4位、3-2-301"), "autocomplete": "off"}))
    tag = forms.ChoiceField(label=_("重点人群"), required=False, choices=[("", _("全部重点人群"))] + Tag.choices,
                            error_messages={"invalid_choice": _("没有“%(value)s”这一重点人群")})
    residency = forms.ChoiceField(label=_("人员类型"), required=False,
                                  choices=[("", _("全部人员类型"))] + Residency.choices,
                                  error_messages={"invalid_choice": _("没有“%(value)s”这一人员类型")})
    grid = forms.ModelChoiceField(label=_("网格"), required=False, queryset=None, empty_label=_("全部网格"),
                                  error_messages={"invalid_choice": _("该网格不存在或不在您的管辖范围内")})
    household = forms.IntegerField(label=_("户"), required=False, min_value=1, max_value=MAX_ID,
                                   widget=forms.HiddenInput, error_messages={
                                       "invalid": _("户的编号不正确"), "min_value": _("户的编号不正确"),
                                       "max_value": _("户的编号不正确")})

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grid"].queryset = grids_for(actor)


class CompoundChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, compound):
        return f"{compound.community.name} {compound.name}"


class PersonForm(forms.Form):
    """A person's record. The household is typed as its address shorthand 楼号-单元-房号 (3-2-301) in the
    chosen community, not picked from a list: a street holds tens of thousands of households."""

    name = forms.CharField(label=_("姓名"), max_length=50)
    id_type = forms.ChoiceField(label=_("证件类型"), choices=IdType.choices, initial=IdType.RESIDENT_ID)
    id_number = forms.CharField(label=_("证件号码"), max_length=30)
    sex = forms.ChoiceField(label=_("性别"), required=False, choices=[("", "—")] + Sex.choices,
                            help_text=_("居民身份证由号码自动得出"))
    birth_date = forms.DateField(label=_("出生日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                                 help_text=_("居民身份证由号码自动得出"))
    phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    community = forms.ModelChoiceField(label=_("社区"), queryset=None)
    compound = CompoundChoiceField(label=_("小区"), queryset=None, required=False,
                                   help_text=_("社区内有几个小区有同一楼号时须选择"))
    address = forms.CharField(label=_("住址(楼号-单元-房号)"), max_length=60, required=False,
                              widget=forms.TextInput(attrs={"placeholder": "3-2-301", "autocomplete": "off"}),
                              help_text=_("如 3-2-301;不填表示暂无住址"))
    relationship = forms.CharField(label=_("与户主关系"), max_length=20, required=False)
    residency = forms.ChoiceField(label=_("人员类型"), choices=Residency.choices, initial=Residency.RESIDENT)
    tags = forms.MultipleChoiceField(label=_("重点人群"), choices=Tag.choices, required=False,
                                     widget=forms.CheckboxSelectMultiple)
    notes = forms.CharField(label=_("备注"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, actor, person=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.fields["community"].queryset = communities_for(actor)
        self.fields["compound"].queryset = compounds_for(actor).order_by("community__name", "name")
        communities = list(self.fields["community"].queryset[:2])
        if len(communities) == 1:
            self.fields["community"].initial = communities[0].pk
        if person is not None:
            self.fields["community"].disabled = True

    @staticmethod
    def address_initial(household: Household | None) -> dict:
        """The community, compound and address fields showing a household."""
        if household is None:
            return {}
        return {"community": household.community_id, "compound": household.compound_id,
                "address": household.shorthand}

    def clean(self):
        cleaned = super().clean()
        cleaned["household"] = self._household(cleaned)
        return cleaned

    def _household(self, cleaned) -> Household | None:
        """The household the address names in the community (and compound), within the actor's scope."""
        community, compound, text = cleaned.get("community"), cleaned.get("compound"), cleaned.get("address", "")
        if not text or community is None:
            return None
        parts = compact(text).split("-")
        if len(parts) != 3 or not all(parts):
            self.add_error("address", _("请按 楼号-单元-房号 填写,如 3-2-301"))
            return None
        if compound is not None and compound.community_id != community.pk:
            self.add_error("compound", _("所选小区不属于%(c)s") % {"c": community})
            return None
        numbers = (normalize_building_number(parts[0]), normalize_unit_number(parts[1]), normalize_room(parts[2]))
        address = "-".join(numbers)
        try:
            household = find_household_for(self.actor, community, compound, *numbers)
        except Household.MultipleObjectsReturned:
            self.add_error("compound", _("%(c)s有几个小区都有 %(a)s,请选择小区") % {"c": community, "a": address})
            return None
        if household is None:
            where = f"{community}{compound or ''}"
            self.add_error("address", _("%(w)s没有 %(a)s 这一户,或不在您的管辖范围内") % {"w": where, "a": address})
        return household

    def add_domain_error(self, err: DomainError) -> None:
        """A service's DomainError on this form; the service's 'household' is the address typed here."""
        if "household" in err.fields:
            err = DomainError(err.message, code=err.code,
                              fields={("address" if f == "household" else f): m for f, m in err.fields.items()})
        add_domain_error(self, err)

    def service_values(self) -> dict:
        """Keyword arguments for person_create / person_update; sex and birth date of a resident ID come from it."""
        places = {"community", "compound", "address", "household"}
        values = {k: v for k, v in self.cleaned_data.items() if k not in places}
        if values["id_type"] == IdType.RESIDENT_ID:
            values.pop("sex")
            values.pop("birth_date")
        return values


class MergeForm(forms.Form):
    keep = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=MAX_ID)
    duplicates = forms.CharField(widget=forms.HiddenInput)
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def duplicate_ids(self) -> list[int]:
        return [int(x) for x in self.cleaned_data["duplicates"].split(",") if is_id(x.strip())]


class LedgerImportForm(forms.Form):
    community = forms.ModelChoiceField(label=_("导入到社区"), queryset=None)
    file = forms.FileField(label=_("台账文件(.xlsx 或 .csv)"),
                           widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}))

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities_for(actor)
        communities = list(self.fields["community"].queryset[:2])
        if len(communities) == 1:
            self.fields["community"].initial = communities[0].pk

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.LEDGER_MAX_BYTES:
            limit_mb = settings.LEDGER_MAX_BYTES // (1024 * 1024)
            raise forms.ValidationError(_("文件过大,不能超过 %(mb)d MB") % {"mb": limit_mb})
        return upload


class LedgerExportForm(forms.Form):
    community = forms.ModelChoiceField(label=_("社区"), queryset=None)
    file_format = forms.ChoiceField(label=_("格式"), choices=[("xlsx", "Excel (.xlsx)"), ("csv", "CSV")])

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities_for(actor)
