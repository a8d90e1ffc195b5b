"""Who is calling the API: a bearer token or the console's session; staff only, except with `any_user_auth`."""

from django.utils.translation import gettext as _
from ninja.errors import HttpError
from ninja.security import HttpBearer, SessionAuth

from fangkong.accounts.services import token_user
from fangkong.core.actors import bind_context, client_address_of
from fangkong.core.errors import NotAllowed
from fangkong.core.roles import is_staff_member


def _admit(request, user, *, staff_only: bool):
    """The user becomes the actor of this request: channel 'api', the caller's address."""
    if staff_only and not is_staff_member(user):
        raise NotAllowed(_("该接口仅供工作人员使用"))
    return bind_context(user, via="api", client_address=client_address_of(request))


class BearerAuth(HttpBearer):
    """`Authorization: Bearer <token>`, a token made by `fangkong token create`."""

    def __init__(self, *, staff_only: bool = True):
        self.staff_only = staff_only
        super().__init__()

    def authenticate(self, request, token):
        user = token_user(token.strip()) if token.strip() else None
        return _admit(request, user, staff_only=self.staff_only) if user else None


class ConsoleSessionAuth(SessionAuth):
    """The console's session cookie; CSRF is checked on unsafe methods once the user is known.

    An anonymous caller gets 401 rather than a CSRF failure, so the answer says what is missing.
    """

    def __init__(self, *, staff_only: bool = True):
        self.staff_only = staff_only
        super().__init__(csrf=True)

    def __call__(self, request):
        if not request.user.is_authenticated:
            return None
        try:
            return super().__call__(request)
        except HttpError:
            raise NotAllowed(_("CSRF 校验失败,请刷新页面后重试"), code="csrf_failed") from None

    def authenticate(self, request, key):
        return _admit(request, request.user, staff_only=self.staff_only)


def staff_auth() -> list:
    return [BearerAuth(), ConsoleSessionAuth()]


def any_user_auth() -> list:
    """Residents too: for the few endpoints about the caller themself."""
    return [BearerAuth(staff_only=False), ConsoleSessionAuth(staff_only=False)]
