"""Who may do what with zones: manage them (accept, draw, change, lift, set policies), record what happens
inside them, and care for the people in them.

Services call the `require_*` checks; views and templates ask `may_manage_zones` to show or hide an action.
"""

from django.utils.translation import gettext as _

from fangkong.core.errors import NotAllowed
from fangkong.core.roles import Role, is_staff_member

MANAGER_ROLES = frozenset({Role.STREET_ADMIN, Role.COMMUNITY_STAFF})


def may_manage_zones(actor) -> bool:
    """Accepting, drawing, changing and lifting zones, and their policies: community staff and street admins."""
    return actor.is_superuser or actor.role in MANAGER_ROLES


def require_zone_manager(actor) -> None:
    if not may_manage_zones(actor):
        raise NotAllowed(_("只有社区工作人员或街道管理员可以确认、划定、调整、解封区域或设置解封政策"))


def require_zone_staff(actor) -> None:
    """Positives, rounds and unlock dates inside a zone are recorded by any staff member."""
    if not is_staff_member(actor):
        raise NotAllowed(_("只有工作人员可以登记区域信息"))


def require_care_staff(actor) -> None:
    if not is_staff_member(actor):
        raise NotAllowed(_("只有工作人员可以登记关照和就医例外"))
