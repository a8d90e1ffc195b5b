"""The observation panel of the person page, read through health.queries."""

from django import template

from fangkong.health import queries

register = template.Library()


@register.inclusion_tag("health/_person_observations.html", takes_context=True)
def person_observations(context, person):
    return {"observations": queries.observations_of_person(context["request"].user, person)}
