"""Sign-in for staff (password, throttled) and residents (phone + one-time code), sign-out,
and the one page a resident sees: their own household."""

from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fangkong.accounts import services
from fangkong.accounts.forms import CodeForm, PhoneForm, SignInForm
from fangkong.core.actors import bind_context, client_address_of
from fangkong.core.errors import DomainError
from fangkong.core.roles import is_resident
from fangkong.people.queries import own_household_members

BACKEND = "django.contrib.auth.backends.ModelBackend"


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return ""


def _sign_in(request, user):
    bind_context(user, via="web", client_address=client_address_of(request))
    login(request, user, backend=BACKEND)
    services.sign_in_succeeded(user)


def _authenticate(request, form):
    """The user for the form's credentials, or None with the form carrying the Chinese reason."""
    username = form.cleaned_data["username"]
    if services.sign_in_blocked(username):
        form.add_error(None, _("登录失败次数过多,该账号已暂停登录,请15分钟后再试"))
        return None
    user = authenticate(request, username=username, password=form.cleaned_data["password"])
    if user is None:
        services.sign_in_failed(username)
        form.add_error(None, _("用户名或密码错误"))
    return user


def sign_in(request):
    form = SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = _authenticate(request, form)
        if user is not None:
            _sign_in(request, user)
            return redirect(_next_url(request) or "web:home")
    return TemplateResponse(request, "accounts/login.html", {"form": form, "next": _next_url(request)})


def resident_sign_in(request):
    """Step one asks for the phone and sends a code; step two checks the code."""
    if request.method == "POST" and "code" in request.POST:
        form = CodeForm(request.POST)
        if form.is_valid():
            try:
                user = services.otp_verify(phone=form.cleaned_data["phone"], code=form.cleaned_data["code"])
            except DomainError as err:
                form.add_error("code", err.message)
            else:
                _sign_in(request, user)
                return redirect("accounts:household")
        return TemplateResponse(request, "accounts/resident_login.html", {"form": form, "step": "code"})
    form = PhoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.otp_request(phone=form.cleaned_data["phone"])
        except DomainError as err:
            form.add_error("phone", err.message)
        else:
            code_form = CodeForm(initial={"phone": form.cleaned_data["phone"]})
            return TemplateResponse(request, "accounts/resident_login.html", {"form": code_form, "step": "code"})
    return TemplateResponse(request, "accounts/resident_login.html", {"form": form, "step": "phone"})


@require_POST
def sign_out(request):
    logout(request)
    return redirect("accounts:login")


@login_required
def household(request):
    """A resident's own household, masked; staff have the registry instead."""
    if not is_resident(request.user):
        return redirect("web:home")
    members = own_household_members(request.user)
    return TemplateResponse(request, "accounts/household.html", {"members": members})
