"""Who may do what in screening: follow-ups, risk areas, arrivals, verification lists, screening rounds.

Services call the `require_*` checks; views and the API ask the `may_*` questions to show or
refuse a page or an action.
"""

from django.utils.translation import gettext as _

from fangkong.accounts.models import Role
from fangkong.core.errors import NotAllowed
from fangkong.core.roles import is_staff_member
from fangkong.core.scope import community_ids_in_scope, ensure_in_scope
from fangkong.people.permissions import may_edit_registry, may_reveal_full_values

LIST_MANAGER_ROLES = frozenset({Role.STREET_ADMIN, Role.COMMUNITY_STAFF})
ROUND_MANAGER_ROLES = frozenset({Role.STREET_ADMIN, Role.COMMUNITY_STAFF})


def require_follow_up_staff(actor) -> None:
    if not is_staff_member(actor):
        raise NotAllowed(_("只有工作人员可以处理跟踪对象"))


def may_keep_risk_areas(user, street=None) -> bool:
    """Risk areas are declared for the whole street: its street staff (of that street, when given)
    and the administrator."""
    if user.is_superuser:
        return True
    return user.role == Role.STREET_ADMIN and (street is None or user.scope_street_id == street.pk)


def require_risk_area_keeper(actor, street) -> None:
    if not may_keep_risk_areas(actor, street):
        raise NotAllowed(_("只有街道工作人员可以维护风险地区"))


def may_record_arrivals(user) -> bool:
    """Arrivals are registered by those who edit the registry (the person may be new to it)."""
    return may_edit_registry(user)


def require_arrival_recorder(actor) -> None:
    if not may_record_arrivals(actor):
        raise NotAllowed(_("您的角色不能登记返乡人员"))


def may_manage_lists(user) -> bool:
    """Imports, reassigns and matches lists: community staff, the street, the administrator."""
    return user.is_authenticated and (user.is_superuser or user.role in LIST_MANAGER_ROLES)


def may_work_lists(user) -> bool:
    """Opens, answers and exports lists: the roles that may see full ID numbers (the list carries them)."""
    return user.is_authenticated and may_reveal_full_values(user)


def require_list_manager(actor) -> None:
    if not may_manage_lists(actor):
        raise NotAllowed(_("只有社区工作人员或街道专班可以导入和分派核查名单"))


def require_list_worker(actor) -> None:
    if not may_work_lists(actor):
        raise NotAllowed(_("您的角色不能处理核查名单"))


def may_manage_rounds(user) -> bool:
    """Starting or closing a round is for whoever runs a whole community: its staff, the street, the administrator."""
    return user.is_superuser or user.role in ROUND_MANAGER_ROLES


def require_round_manager(actor, community) -> None:
    """A round manager whose scope covers the whole community (404 outside scope)."""
    if not may_manage_rounds(actor):
        raise NotAllowed(_("只有社区工作人员或街道可以发起和结束排查轮次"))
    ensure_in_scope(actor, community)
    communities = community_ids_in_scope(actor)
    if communities is not None and community.pk not in communities:
        raise NotAllowed(_("只有负责整个社区的工作人员可以发起和结束排查轮次"))


def require_visit_recorder(actor) -> None:
    if not is_staff_member(actor):
        raise NotAllowed(_("只有工作人员可以登记入户排查"))
