"""The cases panel of the person page: their cases, the cases they are a contact of, and "登记阳性"."""

from django import template

from fangkong.health import queries
from fangkong.health.permissions import may_record_cases

register = template.Library()


@register.inclusion_tag("health/case_person_panel.html", takes_context=True)
def person_cases(context, person):
    actor = context["request"].user
    cases = list(queries.cases_of_person(actor, person))
    return {"person": person, "cases": cases, "contacts": queries.contacts_of_person(actor, person),
            "may_open": may_record_cases(actor) and not any(case.is_open for case in cases)}
