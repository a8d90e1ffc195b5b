from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from fangkong.people.models import IdType, Residency, Sex, Tag
from fangkong.places.queries import communities_for, grids_for, households_for


class HouseholdChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, household):
        return f"{household.compound.name} {household.building.number}-{household.unit.number}-{household.room}"


class PersonSearchForm(forms.Form):
    q = forms.CharField(label=_("搜索"), required=False, max_length=100, widget=forms.TextInput(attrs={
        "type": "search", "placeholder": _("姓名、拼音首字母 zs、证件或手机号后4位、3-2-301"), "autocomplete": "off"}))
    tag = forms.ChoiceField(label=_("重点人群"), required=False, choices=[("", _("全部重点人群"))] + Tag.choices)
    residency = forms.ChoiceField(label=_("人员类型"), required=False, choices=[("", _("全部人员类型"))] + Residency.choices)
    grid = forms.ModelChoiceField(label=_("网格"), required=False, queryset=None, empty_label=_("全部网格"))
    household = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grid"].queryset = grids_for(actor)


class PersonForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=50)
    id_type = forms.ChoiceField(label=_("证件类型"), choices=IdType.choices, initial=IdType.RESIDENT_ID)
    id_number = forms.CharField(label=_("证件号码"), max_length=30)
    sex = forms.ChoiceField(label=_("性别"), required=False, choices=[("", "—")] + Sex.choices,
                            help_text=_("居民身份证由号码自动得出"))
    birth_date = forms.DateField(label=_("出生日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                                 help_text=_("居民身份证由号码自动得出"))
    phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    community = forms.ModelChoiceField(label=_("社区"), queryset=None)
    household = HouseholdChoiceField(label=_("户"), queryset=None, required=False)
    relationship = forms.CharField(label=_("与户主关系"), max_length=20, required=False)
    residency = forms.ChoiceField(label=_("人员类型"), choices=Residency.choices, initial=Residency.RESIDENT)
    tags = forms.MultipleChoiceField(label=_("重点人群"), choices=Tag.choices, required=False,
                                     widget=forms.CheckboxSelectMultiple)
    notes = forms.CharField(label=_("备注"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities_for(actor)
        self.fields["household"].queryset = households_for(actor).order_by(
            "compound__name", "building__number", "unit__number", "room")

    def service_values(self) -> dict:
        """Keyword arguments for person_create / person_update; sex and birth date of a resident ID come from it."""
        values = {k: v for k, v in self.cleaned_data.items() if k not in {"community", "household"}}
        if values["id_type"] == IdType.RESIDENT_ID:
            values.pop("sex")
            values.pop("birth_date")
        return values


class MergeForm(forms.Form):
    keep = forms.IntegerField(widget=forms.HiddenInput)
    duplicates = forms.CharField(widget=forms.HiddenInput)
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def duplicate_ids(self) -> list[int]:
        return [int(x) for x in self.cleaned_data["duplicates"].split(",") if x.strip().isdigit()]


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
            raise forms.ValidationError(_("文件过大,不能超过 %(mb)d MB") % {"mb": settings.LEDGER_MAX_BYTES // (1024 * 1024)})
        return upload


class LedgerExportForm(forms.Form):
    community = forms.ModelChoiceField(label=_("社区"), queryset=None)
    file_format = forms.ChoiceField(label=_("格式"), choices=[("xlsx", "Excel (.xlsx)"), ("csv", "CSV")])

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities_for(actor)
