"""Accounts: staff creation, sign-in throttling, resident one-time codes, API tokens."""

import datetime
import hashlib
import hmac
import secrets

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts import queries
from fangkong.accounts.models import ApiToken, OneTimeCode, Role, User
from fangkong.accounts.sms import get_sender
from fangkong.core import audit, throttle
from fangkong.core.errors import DomainError, NotAllowed, RateLimited, from_validation_error
from fangkong.core.idnumbers import normalize_phone

OTP_MAX_ATTEMPTS = 5


def _phone(raw: str) -> str:
    try:
        return normalize_phone(raw)
    except ValidationError as err:
        raise from_validation_error(err, "phone") from None


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@transaction.atomic
def user_create(*, actor, username: str, password: str, role: str = "", display_name: str = "", phone: str = "",
                street=None, communities=(), grids=(), person=None, superuser: bool = False) -> User:
    if actor is not None and not actor.is_superuser:
        raise NotAllowed(_("只有系统管理员可以创建账号"))
    if User.objects.filter(username=username).exists():
        raise DomainError(_("用户名已存在"), code="duplicate", fields={"username": _("用户名已存在")})
    if role and role not in Role.values:
        raise DomainError(_("角色不正确"), fields={"role": _("角色不正确")})
    phone = _phone(phone) if phone else ""
    user = User(username=username, role=role, display_name=display_name, phone=phone, scope_street=street,
                person=person, is_superuser=superuser, is_staff=superuser)
    try:
        validate_password(password, user)
    except ValidationError as err:
        raise from_validation_error(err, "password") from None
    user.set_password(password)
    user.save()
    user.scope_communities.set(communities)
    user.scope_grids.set(grids)
    audit.record(actor=actor, action=audit.Action.CREATE, obj=user, fields=["username", "role", "scope"])
    return user


def _sign_in_key(username: str) -> str:
    return f"sign-in:{username.lower()}"


def sign_in_blocked(username: str) -> bool:
    return throttle.hits(_sign_in_key(username), settings.LOGIN_FAILURE_WINDOW_SECONDS) >= settings.LOGIN_FAILURE_LIMIT


def sign_in_failed(username: str) -> None:
    throttle.hit(_sign_in_key(username), settings.LOGIN_FAILURE_WINDOW_SECONDS)


def sign_in_succeeded(user: User) -> None:
    throttle.reset(_sign_in_key(user.username))
    audit.record(actor=user, action=audit.Action.SIGN_IN, obj=user, fields=[])


def _code_expiry() -> datetime.datetime:
    return timezone.now() + datetime.timedelta(seconds=settings.ONE_TIME_CODE_TTL_SECONDS)


def otp_request(*, phone: str) -> None:
    """Send a sign-in code to a resident's phone. Silent about whether the phone has an account."""
    phone = _phone(phone)
    if throttle.hit(f"otp-send:{phone}", 3600) > 5:
        raise RateLimited(_("验证码发送过于频繁,请一小时后再试"))
    code = f"{secrets.randbelow(10**6):06d}"
    if User.objects.filter(phone=phone, role=Role.RESIDENT, is_active=True).exists():
        OneTimeCode.objects.create(phone=phone, digest=_digest(code), expires_at=_code_expiry())
        get_sender().send_code(phone, code)


def registration_code_request(*, phone: str) -> str:
    """Send a code to any phone, account or not: a resident registering an arrival from the poster.

    Same sender and same per-phone limit as the sign-in code. Returns the normalised phone.
    """
    phone = _phone(phone)
    if throttle.hit(f"otp-send:{phone}", 3600) > 5:
        raise RateLimited(_("验证码发送过于频繁,请一小时后再试"))
    code = f"{secrets.randbelow(10**6):06d}"
    OneTimeCode.objects.create(phone=phone, digest=_digest(code), expires_at=_code_expiry())
    get_sender().send_code(phone, code)
    return phone


def registration_code_verify(*, phone: str, code: str) -> str:
    """The normalised phone when code is its latest live code (used up by this check); else a field error."""
    phone = _phone(phone)
    if not _consume_code(phone, code):
        raise DomainError(_("验证码错误或已过期"), code="bad_code", fields={"code": _("验证码错误或已过期")})
    return phone


def _consume_code(phone: str, code: str) -> bool:
    """Mark the phone's latest live code used when code matches; count a wrong try otherwise."""
    with transaction.atomic():
        entry = (OneTimeCode.objects.select_for_update()
                 .filter(phone=phone, used_at=None, expires_at__gt=timezone.now()).order_by("-created_at").first())
        if entry is None or entry.attempts >= OTP_MAX_ATTEMPTS:
            return False
        if not hmac.compare_digest(entry.digest, _digest(str(code).strip())):
            entry.attempts += 1
            entry.save(update_fields=["attempts"])
            return False
        entry.used_at = timezone.now()
        entry.save(update_fields=["used_at"])
        return True


def otp_verify(*, phone: str, code: str) -> User:
    """The resident account for phone when code is its latest unexpired, unused code."""
    phone = _phone(phone)
    user = User.objects.filter(phone=phone, role=Role.RESIDENT, is_active=True).first()
    if not _consume_code(phone, code) or user is None:
        raise DomainError(_("验证码错误或已过期"), code="bad_code", fields={"code": _("验证码错误或已过期")})
    return user


@transaction.atomic
def token_create(*, actor, user: User, label: str = "") -> str:
    """Create a bearer token for user and return it; it is shown once and stored as a digest."""
    if not (actor.is_superuser or actor.pk == user.pk):
        raise NotAllowed(_("只能为自己创建令牌"))
    token = secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, digest=_digest(token), label=label)
    audit.record(actor=actor, action=audit.Action.TOKEN, obj=user, fields=["api_token"])
    return token


TOKEN_USE_PRECISION = datetime.timedelta(minutes=5)


def token_user(token: str) -> User | None:
    """The active user a bearer token belongs to; one read per request.

    When the token was last used is kept to five minutes: a device registering a swab a second
    should not also write to its token row every second.
    """
    holder = queries.token_holder(_digest(token))
    if holder is None or not holder[2].is_active:
        return None
    token_id, last_used_at, user = holder
    now = timezone.now()
    if last_used_at is None or now - last_used_at >= TOKEN_USE_PRECISION:
        ApiToken.objects.filter(pk=token_id).update(last_used_at=now)
    return user
