"""`{% person_movement person %}`: the person's movement status and the zones around their home, for the person page."""

from django import template

from fangkong.zones.queries import movement_of_person

register = template.Library()


@register.inclusion_tag("zones/zone_movement.html")
def person_movement(person):
    """The caller already holds the person through a scoped lookup; the zones around their home are read from it."""
    return {"status": movement_of_person(person)}
