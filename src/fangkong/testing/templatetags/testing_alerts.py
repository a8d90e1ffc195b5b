"""The home page's alert for grid members: how many people wait for a single-tube re-sample (单管复核)."""

from django import template

from fangkong.core.roles import is_staff_member
from fangkong.testing import queries

register = template.Library()


@register.inclusion_tag("testing/resample_alert.html", takes_context=True)
def resample_alert(context):
    user = context["request"].user
    return {"count": queries.resample_alert_count(user) if is_staff_member(user) else 0}
