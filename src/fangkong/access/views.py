"""Checkpoint pages: gates and their posters, the guard's scanner (an installable web app that keeps working
offline), passes and their printable cards, passages and conflicts, residents' self-scan, tracing."""

import datetime
import io
import json
import uuid

import segno
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from fangkong.access import codes, queries, services
from fangkong.access.forms import (
    CheckpointEditForm,
    CheckpointForm,
    PassageFilterForm,
    PassFilterForm,
    PassForm,
    RevokeForm,
    SelfScanForm,
    TraceContactsForm,
    TraceForm,
    VisitorForm,
)
from fangkong.access.models import Direction, Reason, Result
from fangkong.accounts.models import Role
from fangkong.core import throttle
from fangkong.core.access import allowed, staff_required
from fangkong.core.actors import client_address_of
from fangkong.core.errors import DomainError
from fangkong.core.forms import add_domain_error, id_param
from fangkong.health.queries import cases_of_person
from fangkong.people.queries import get_person_for, own_household_members, persons_for

PAGE_SIZE = 100

# ---------------------------------------------------------------------------
# Checkpoints, posters and the scanner
# ---------------------------------------------------------------------------


@staff_required
def checkpoints(request):
    """The gates in scope with today's counts, and the form to set one up (community staff)."""
    user = request.user
    may_manage = services.may_manage_checkpoints(user)
    form = CheckpointForm(request.POST or None, actor=user)
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied
        if form.is_valid():
            try:
                gate = services.checkpoint_create(actor=user, **form.cleaned_data)
            except DomainError as err:
                add_domain_error(form, err)
            else:
                messages.success(request, _("已设立卡口:%(g)s") % {"g": gate})
                return redirect("access:checkpoint", pk=gate.pk)
    figures = queries.passage_figures(user, timezone.localdate())
    today = {row.checkpoint.pk: row.total for row in figures.gates}
    gates = list(queries.checkpoints_for(user))
    for gate in gates:
        gate.today = today.get(gate.pk, 0)
    return TemplateResponse(request, "access/checkpoints.html", {
        "gates": gates, "form": form, "may_manage": may_manage, "figures": figures}, status=400 if form.errors else 200)


def _edit_form(user, gate, data=None) -> CheckpointEditForm:
    initial = {name: getattr(gate, name) for name in ("name", "compound", "direction", "opens_at", "closes_at", "post",
                                                      "pass_required", "visitors_admitted", "test_within_hours",
                                                      "active")}
    return CheckpointEditForm(data, actor=user, initial=initial)


@staff_required
def checkpoint(request, pk):
    """A gate: its rules (editable by staff), today's figures by hour and reason, recent passages and conflicts."""
    user = request.user
    gate = queries.get_checkpoint_for(user, pk)
    may_manage = services.may_manage_checkpoints(user)
    form = _edit_form(user, gate, request.POST or None)
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.checkpoint_update(actor=user, checkpoint=gate, **form.cleaned_data)
            except DomainError as err:
                add_domain_error(form, err)
            else:
                messages.success(request, _("已保存卡口规则"))
                return redirect("access:checkpoint", pk=gate.pk)
    day = timezone.localdate()
    return TemplateResponse(request, "access/checkpoint.html", {
        "gate": gate, "form": form, "may_manage": may_manage,
        "figures": queries.passage_figures(user, day, checkpoint=gate),
        "recent": queries.recent_passages_at(user, gate),
        "conflicts": list(queries.passages_for(user, checkpoint=gate, conflict=True)[:20]),
    }, status=400 if form.errors else 200)


def _poster_url(request, gate) -> str:
    return request.build_absolute_uri(reverse("access:self_scan", args=[codes.poster_token(gate)]))


@staff_required
def poster(request, pk):
    """The gate's A4 poster (Chinese, print-styled): residents scan its QR code to register themselves."""
    gate = queries.get_checkpoint_for(request.user, pk)
    services.checkpoint_poster_print(actor=request.user, checkpoint=gate)
    url = _poster_url(request, gate)
    qr = segno.make(url, error="m").svg_inline(scale=10, border=2)
    return TemplateResponse(request, "access/poster.html", {"gate": gate, "qr": qr, "url": url})


@staff_required
def poster_png(request, pk):
    """The poster's QR code as a PNG, for a print shop or a chat group."""
    gate = queries.get_checkpoint_for(request.user, pk)
    buffer = io.BytesIO()
    segno.make(_poster_url(request, gate), error="m").save(buffer, kind="png", scale=16, border=4)
    response = HttpResponse(buffer.getvalue(), content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="checkpoint-{gate.pk}.png"'
    return response


@staff_required
def scanner(request, pk):
    """The guard's scanner: an installable web app that decides offline from a rules snapshot and syncs later."""
    gate = queries.get_checkpoint_for(request.user, pk)
    if not services.may_guard(request.user):
        raise PermissionDenied
    return TemplateResponse(request, "access/scanner.html", {"gate": gate, "app_scope": _app_scope(),
                                                             "labels": _scanner_labels()})


def _app_scope() -> str:
    """/access/: the pages the scanner's service worker controls (where it is served)."""
    return reverse("access:service_worker").rsplit("sw.js", 1)[0]


def _scanner_labels() -> dict:
    """The words the scanner's script shows, in the page's language."""
    return {
        "results": {code: str(label) for code, label in Result.choices},
        "reasons": {code: str(label) for code, label in Reason.choices},
        "directions": {code: str(label) for code, label in Direction.choices},
        "texts": {"online": _("在线"), "offline": _("离线"), "offline_decision": _("离线判定,联网后自动上传"),
                  "queued": _("待上传 %(n)s 条"), "synced": _("已上传"), "sync_failed": _("上传失败,稍后重试"),
                  "snapshot": _("规则更新于 %(when)s"), "no_snapshot": _("尚无离线规则,请联网打开一次本页"),
                  "quota": _("本期第 %(n)s 次,共 %(total)s 次"), "no_camera": _("无法打开摄像头,请手动输入"),
                  "enter_code": _("请扫码或输入身份证号"), "visitor_needs": _("请填写访客姓名和手机号"),
                  "discard": _("删除"), "conflict": _("冲突")},
    }


def manifest(request):
    """The scanner's web app manifest, served by the app (no CDN)."""
    return JsonResponse({
        "name": _("防控卡口扫码"), "short_name": _("卡口扫码"), "lang": "zh-CN",
        "start_url": reverse("access:checkpoints"), "scope": _app_scope(),
        "display": "standalone", "background_color": "#ffffff", "theme_color": "#c0392b",
        "icons": [{"src": static(f"access/icon-{size}.png"), "sizes": f"{size}x{size}", "type": "image/png"}
                  for size in (192, 512)],
    }, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False})


def service_worker(request):
    """The scanner's service worker, served under /access/ so it may control the scanner pages."""
    assets = [static("fangkong/app.css"), static("access/access.css"), static("access/scanner.js"),
              static("access/icon-192.png"), reverse("access:manifest")]
    response = TemplateResponse(request, "access/sw.js", {"assets_json": json.dumps(assets)},
                                content_type="application/javascript")
    response["Service-Worker-Allowed"] = _app_scope()
    response["Cache-Control"] = "no-cache"
    return response


# ---------------------------------------------------------------------------
# Passages and conflicts
# ---------------------------------------------------------------------------


@staff_required
def passages(request):
    """Passages in scope, newest first, by gate, day and result; the supervisor's list of conflicts."""
    user = request.user
    filters = PassageFilterForm(request.GET or None, actor=user)
    chosen = filters.cleaned_data if filters.is_valid() else {}
    rows = queries.passages_for(user, checkpoint=chosen.get("checkpoint"), day=chosen.get("day"),
                                result=chosen.get("result", ""), conflict=True if chosen.get("conflict") else None)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return TemplateResponse(request, "access/passages.html", {"filters": filters, "page": page})


# ---------------------------------------------------------------------------
# Passes and their cards
# ---------------------------------------------------------------------------


@staff_required
def passes(request):
    user = request.user
    may_issue = services.may_issue_passes(user)
    form = PassForm(request.POST or None, actor=user,
                    initial={"person": id_param(request.GET.get("person")) or None})
    person = _pass_person(user, request.POST.get("person") or request.GET.get("person"))
    if request.method == "POST":
        if not may_issue:
            raise PermissionDenied
        if form.is_valid():
            data = {**form.cleaned_data, "person": person}
            try:
                issued = services.pass_issue(actor=user, **data)
            except DomainError as err:
                add_domain_error(form, err)
            else:
                messages.success(request, _("已发放出入证 %(n)s") % {"n": issued.number})
                return redirect("access:pass", pk=issued.pk)
    filters = PassFilterForm(request.GET or None)
    chosen = filters.cleaned_data if filters.is_valid() else {}
    rows = queries.passes_for(user, kind=chosen.get("kind", ""), state=chosen.get("state", ""))
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return TemplateResponse(request, "access/passes.html", {
        "form": form, "filters": filters, "page": page, "may_issue": may_issue, "person": person,
        "now": timezone.now()}, status=400 if form.errors else 200)


def _pass_person(user, value):
    """The person a pass is issued to, named by the person page's link; None for a household pass."""
    pk = id_param(value)
    return get_person_for(user, pk) if pk else None


@staff_required
def pass_detail(request, pk):
    user = request.user
    shown = queries.get_pass_for(user, pk)
    form = RevokeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.pass_revoke(actor=user, pass_=shown, reason=form.cleaned_data["reason"])
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("已注销出入证 %(n)s") % {"n": shown.number})
            return redirect("access:pass", pk=shown.pk)
    return TemplateResponse(request, "access/pass.html", {
        "pass": shown, "quota": queries.quota_left(shown), "form": form, "may_issue": services.may_issue_passes(user),
        "passages": list(queries.passages_for(user).filter(used_pass=shown)[:20])},
        status=400 if form.errors else 200)


@staff_required
def pass_card(request, pk):
    """A pass's printable card with its QR code, for people without a phone; printing is logged."""
    shown = queries.get_pass_for(request.user, pk)
    services.pass_cards_print(actor=request.user, passes=[shown])
    return TemplateResponse(request, "access/pass_card.html", {
        "cards": [(shown, codes.pass_code_svg(shown, scale=5))]})


@never_cache
def own_passes(request):
    """A resident's passes and what is left of each quota this period."""
    if not request.user.is_authenticated:
        return redirect(f"{reverse('accounts:resident_login')}?next={request.path}")
    if request.user.role != Role.RESIDENT:
        return redirect("access:passes")
    return TemplateResponse(request, "access/own_passes.html", {"passes": queries.own_passes(request.user)})


# ---------------------------------------------------------------------------
# Self-scan at a gate's poster
# ---------------------------------------------------------------------------

SELF_SCAN_LIMIT = 30
SELF_SCAN_WINDOW_SECONDS = 3600


def _poster_gate(token):
    pk = codes.checkpoint_of_poster(token)
    if pk is None:
        raise Http404
    return queries.get_checkpoint_of_poster(pk)


def _self_scan_page(request, gate, token, status=200, **context):
    return TemplateResponse(request, "access/self_scan.html", {
        "gate": gate, "token": token, "login_url": f"{reverse('accounts:resident_login')}?next={request.path}",
        "client_id": uuid.uuid4(), **context}, status=status)


def _new_client_id(request) -> str:
    return request.POST.get("client_id") or str(uuid.uuid4())


@never_cache
def self_scan(request, token):
    """What a poster's QR code opens: a resident picks who of the household goes in or out; a visitor without a
    code fills in the visitor form. The answer is shown as the guard's screen would show it."""
    gate = _poster_gate(token)
    user = request.user
    resident = user.is_authenticated and user.role == Role.RESIDENT and user.person_id
    if request.method == "POST" and request.POST.get("step") == "visitor":
        return _visitor_self_scan(request, gate, token)
    if request.method == "POST" and resident:
        return _resident_self_scan(request, gate, token)
    members = list(own_household_members(user)) if resident else []
    return _self_scan_page(request, gate, token, members=members, resident=resident, visitor_form=VisitorForm())


def _resident_self_scan(request, gate, token):
    user = request.user
    form = SelfScanForm(request.POST)
    members = list(own_household_members(user))
    if not form.is_valid():
        return _self_scan_page(request, gate, token, status=400, members=members, resident=True,
                               error=_("请选择人员和方向"), visitor_form=VisitorForm())
    person = next((member for member in members if member.pk == form.cleaned_data["person"]), None)
    if person is None:
        raise Http404
    try:
        registered = services.passage_self_register(
            actor=user, checkpoint=gate, person=person, client_id=_new_client_id(request),
            direction=form.cleaned_data["direction"], temperature=form.cleaned_data["temperature"])
    except DomainError as err:
        return _self_scan_page(request, gate, token, status=400, members=members, resident=True, error=err.message,
                               visitor_form=VisitorForm())
    return _self_scan_page(request, gate, token, members=members, resident=True, registered=registered,
                           visitor_form=VisitorForm())


def _visitor_self_scan(request, gate, token):
    form = VisitorForm(request.POST)
    key = f"self-scan:{client_address_of(request)}"
    if throttle.hits(key, SELF_SCAN_WINDOW_SECONDS) >= SELF_SCAN_LIMIT:
        return _self_scan_page(request, gate, token, status=429, visitor_form=form,
                               error=_("登记过于频繁,请稍后再试或请值守人员登记"))
    if form.is_valid():
        data = form.cleaned_data
        try:
            registered = services.passage_visitor_self_register(
                actor=request.user, checkpoint=gate, client_id=_new_client_id(request), direction=data["direction"],
                temperature=data["temperature"], plate=data["plate"],
                visitor={name: data[name] for name in ("name", "phone", "id_number", "reason")})
        except DomainError as err:
            add_domain_error(form, err)
        else:
            throttle.hit(key, SELF_SCAN_WINDOW_SECONDS)
            return _self_scan_page(request, gate, token, registered=registered, visitor_form=VisitorForm())
    return _self_scan_page(request, gate, token, status=400, visitor_form=form, show_visitor=True)


# ---------------------------------------------------------------------------
# Tracing
# ---------------------------------------------------------------------------


def _trace_initial(person) -> dict:
    end = timezone.localtime().replace(second=0, microsecond=0)
    return {"person": person.pk if person else None, "start": end - datetime.timedelta(days=14), "end": end,
            "minutes": queries.TRACE_MINUTES}


def _search_people(user, text: str) -> list:
    text = (text or "").strip()[:30]
    if not text:
        return []
    return list(persons_for(user).filter(name__contains=text).select_related("household__unit__building",
                                                                             "community")[:20])


@allowed(services.may_trace)
def tracing(request):
    """A person and a time range: their passages, and everyone at the same gate within ± N minutes, with counts;
    the ones chosen may be added as close contacts of the person's case."""
    user = request.user
    source = request.POST if request.method == "POST" else request.GET
    pk = id_param(source.get("person"))
    person = get_person_for(user, pk) if pk else None
    form = TraceForm(source if "start" in source else None, initial=_trace_initial(person))
    context = {"person": person, "form": form, "found": None, "candidates": _search_people(user, request.GET.get("q")),
               "q": request.GET.get("q", "")}
    if person is not None and form.is_valid():
        try:
            start, end, minutes = queries.clean_trace_window(form.cleaned_data["start"], form.cleaned_data["end"],
                                                             form.cleaned_data["minutes"])
        except DomainError as err:
            add_domain_error(form, err)
        else:
            found = queries.trace(user, person, start=start, end=end, minutes=minutes)
            services.tracing_record(actor=user, person=person, start=start, end=end)
            context.update(found=found, contacts_form=_contacts_form(user, person, request))
            if request.method == "POST":
                return _add_contacts(request, found, context)
    return TemplateResponse(request, "access/tracing.html", context, status=400 if form.errors else 200)


def _contacts_form(user, person, request):
    data = request.POST if request.method == "POST" else None
    return TraceContactsForm(data, cases=cases_of_person(user, person))


def _add_contacts(request, found, context):
    form = context["contacts_form"]
    chosen = set(request.POST.getlist("key"))
    picked = [contact for contact in found.contacts if contact.key in chosen]
    if not form.is_valid() or not picked:
        messages.error(request, _("请选择病例和要添加的人"))
        return TemplateResponse(request, "access/tracing.html", context, status=400)
    try:
        added, left_out = services.trace_contacts_add(actor=request.user, case=form.cleaned_data["case"], found=picked)
    except DomainError as err:
        messages.error(request, err.message)
        return TemplateResponse(request, "access/tracing.html", context, status=400)
    messages.success(request, _("已添加 %(n)d 名密接") % {"n": len(added)})
    if left_out:
        messages.warning(request, _("无证件号的访客未能登记:%(names)s") % {"names": "、".join(left_out)})
    return redirect("health:case_detail", pk=form.cleaned_data["case"].pk)

