"""Who may open a console page. Staff pages send a signed-in resident to their own household."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect

from fangkong.core.roles import is_resident, is_staff_member


def staff_required(view):
    """login_required, then only staff members (and the administrator); residents go to their household page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if is_resident(user):
            return redirect("accounts:household")
        if not is_staff_member(user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def allowed(check):
    """staff_required plus a role check (an app's `permissions.py`, or core.roles); others get 403."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return staff_required(wrapper)

    return decorator
