from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.core.models import AuditEvent


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label=_("动作"), required=False, choices=[("", _("全部"))] + AuditEvent.Action.choices)
    actor = forms.CharField(label=_("操作人"), required=False, max_length=150)
    day = forms.DateField(label=_("日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


def add_domain_error(form: forms.Form, err) -> None:
    """Put a service's DomainError on the form: each named field that the form has, else on top."""
    placed = False
    for field, message in err.fields.items():
        if field in form.fields:
            form.add_error(field, message)
            placed = True
    if not placed:
        form.add_error(None, err.message)


def id_param(value) -> int:
    """A primary key from a query string; anything that is not a positive integer becomes 0 (so: 404)."""
    text = str(value or "")
    return int(text) if text.isdigit() else 0
