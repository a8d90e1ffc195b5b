"""Who am I: the caller's account, role, permissions and scope."""

from django.utils.translation import gettext as _
from ninja import Router

from fangkong.accounts.auth import any_user_auth
from fangkong.accounts.schemas import MeOut
from fangkong.core.scope import scope_of
from fangkong.people.permissions import may_edit_registry, may_export_full_values, may_reveal_full_values
from fangkong.places.permissions import may_edit_places
from fangkong.places.queries import communities_for, grids_for

router = Router()


def _scope(user) -> dict:
    scope = scope_of(user)
    street = user.scope_street
    return {
        "everything": scope.everything,
        "street": {"id": street.id, "name": street.name} if street else None,
        "communities": [{"id": c.id, "name": c.name} for c in communities_for(user)],
        "grids": [{"id": g.id, "name": g.name} for g in grids_for(user).filter(id__in=scope.grid_ids)],
        "household_id": next(iter(scope.household_ids), None),
    }


@router.get("/me", response=MeOut, auth=any_user_auth(), summary="当前用户:角色、权限与管辖范围")
def me(request):
    user = request.auth
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "role_label": user.get_role_display() if user.role else (_("系统管理员") if user.is_superuser else ""),
        "is_superuser": user.is_superuser,
        "may_reveal_full_values": may_reveal_full_values(user),
        "may_export_full_values": may_export_full_values(user),
        "may_edit_registry": may_edit_registry(user),
        "may_edit_places": may_edit_places(user),
        "scope": _scope(user),
    }
