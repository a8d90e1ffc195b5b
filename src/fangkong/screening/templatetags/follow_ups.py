"""Follow-up panels other apps' pages show: the colour summary on the home page, and a person's
colour and arrival history on the person page. The reads go through screening.queries."""

from django import template

from fangkong.screening import queries

register = template.Library()


@register.inclusion_tag("screening/_color_summary.html", takes_context=True)
def color_summary(context):
    _, totals = queries.color_board(context["request"].user)
    return {"totals": totals}


@register.inclusion_tag("screening/_person_follow_up.html", takes_context=True)
def person_follow_up(context, person):
    actor = context["request"].user
    follow_up = queries.follow_up_of_person(actor, person)
    return {"follow_up": follow_up, "person": person,
            "history": queries.color_history(actor, follow_up)[:20] if follow_up else [],
            "arrivals": queries.arrivals_of_person(actor, person)}
