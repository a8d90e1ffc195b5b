"""The roles an account may hold, and the questions about them every console page asks.

The vocabulary lives here, at the bottom, because the access decorators, the navigation and the
audit log below every app need it; `accounts.User.role` takes its choices from it. What a role may
do inside one app (edit the registry, edit places, ...) is that app's own `permissions.py`.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    STREET_ADMIN = "street_admin", _("街道领导/专班")
    COMMUNITY_STAFF = "community_staff", _("社区两委/工作人员")
    GRID_LEADER = "grid_leader", _("网格长")
    GRID_MEMBER = "grid_member", _("网格员")
    MEDIC = "medic", _("医护人员")
    POLICE = "police", _("民警")
    VOLUNTEER = "volunteer", _("志愿者/下沉干部")
    RESIDENT = "resident", _("居民")


_AUDIT_ROLES = {Role.STREET_ADMIN, Role.COMMUNITY_STAFF}


def is_resident(user) -> bool:
    """A signed-in resident (not the administrator): they see their own household, never the console."""
    return user.is_authenticated and not user.is_superuser and user.role == Role.RESIDENT


def is_staff_member(user) -> bool:
    return user.is_authenticated and (user.is_superuser or (bool(user.role) and user.role != Role.RESIDENT))


def may_browse_audit(user) -> bool:
    return user.is_superuser or user.role in _AUDIT_ROLES
