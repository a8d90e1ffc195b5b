"""Who may do what in health: observations and checks, policies, cases and contacts, transfers and destinations.

Services call the `require_*` checks; views, the API and templates ask the `may_*` questions to
show or hide an action.
"""

from django.utils.translation import gettext as _

from fangkong.accounts.models import Role
from fangkong.core.errors import NotAllowed
from fangkong.core.roles import is_staff_member
from fangkong.people.permissions import may_edit_registry
from fangkong.places.models import Street


def require_observation_staff(actor) -> None:
    """Observations, their checks and alerts are handled by staff (residents only report their own checks)."""
    if not is_staff_member(actor):
        raise NotAllowed(_("只有工作人员可以管理隔离观察"))


def may_set_policies(actor, street: Street) -> bool:
    """A street's observation and contact policies are set by its street admins (and the administrator)."""
    return actor.is_authenticated and (
        actor.is_superuser or (actor.role == Role.STREET_ADMIN and actor.scope_street_id == street.pk))


def policy_street_for(user) -> Street | None:
    """The street whose policies the user may set: a street admin's own (the first street for the administrator)."""
    if user.is_superuser:
        return Street.objects.order_by("id").first()
    return user.scope_street if user.role == Role.STREET_ADMIN else None


def may_record_cases(actor) -> bool:
    """Registry editors and medics record cases, contacts and transfers."""
    return actor.is_authenticated and (may_edit_registry(actor) or actor.role == Role.MEDIC)


def require_case_editor(actor) -> None:
    if not may_record_cases(actor):
        raise NotAllowed(_("只有社区工作人员、网格员和医护人员可以登记病例和密接"))


def may_manage_destinations(actor, street: Street) -> bool:
    """Street admins of the street and community staff of one of its communities."""
    if not actor.is_authenticated:
        return False
    if actor.is_superuser:
        return True
    if actor.role == Role.STREET_ADMIN:
        return actor.scope_street_id == street.pk
    return actor.role == Role.COMMUNITY_STAFF and actor.scope_communities.filter(street=street).exists()


def require_destination_manager(actor, street: Street) -> None:
    if not may_manage_destinations(actor, street):
        raise NotAllowed(_("只有街道领导/专班和本街道社区工作人员可以维护转运目的地"))
