"""The four colours (四色标示法) from the facts about a followed person, and who handles each colour.

red    arrived from a risk area and not reported, not cooperating or unreachable: community leaders
yellow reached by phone, facts being verified: one named staff member
blue   verified and under home quarantine, or confirmed to have left: medic and the responsible person
green  arrived from elsewhere with no risk-area exposure: the grid team revisits
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from fangkong.accounts.models import Role
from fangkong.screening.models import Color


@dataclass(frozen=True)
class ColorFacts:
    reached: bool = False
    cooperating: bool = True
    verified: bool = False
    exposed: bool = False
    under_observation: bool = False
    left_community: bool = False


def risk_color(facts: ColorFacts) -> Color:
    """The colour the facts give. Pure: the same facts always give the same colour."""
    if not facts.cooperating and (facts.exposed or facts.under_observation):
        return Color.RED
    if facts.verified and (facts.under_observation or facts.left_community):
        return Color.BLUE
    if facts.exposed and not facts.reached:
        return Color.RED
    if facts.exposed or not facts.verified or not facts.cooperating:
        return Color.YELLOW
    return Color.GREEN


COLOR_ROLES = {
    Color.RED: (Role.COMMUNITY_STAFF,),
    Color.YELLOW: (Role.COMMUNITY_STAFF, Role.GRID_LEADER, Role.GRID_MEMBER),
    Color.BLUE: (Role.MEDIC,),
    Color.GREEN: (Role.GRID_LEADER, Role.GRID_MEMBER),
}

COLOR_HANDLERS = {
    Color.RED: _("社区书记、包片领导亲自对接"),
    Color.YELLOW: _("专人负责核实"),
    Color.BLUE: _("医护人员和责任人跟进监测"),
    Color.GREEN: _("网格员定期回访"),
}

REVISIT_DAYS = {Color.RED: 0, Color.YELLOW: 1, Color.BLUE: 1, Color.GREEN: 3}
"""Days until the next call or visit after a contact; red is followed up the same day."""


def colors_handled_by(user) -> list[str]:
    """The colours whose unassigned follow-ups land in this user's queue (the administrator's: all of them)."""
    return [color for color, roles in COLOR_ROLES.items() if user.is_superuser or user.role in roles]
