"""Console pages for following people: colours and follow-ups, risk areas and arrivals, lists, rounds."""

import segno
from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fangkong.accounts.services import registration_code_request, registration_code_verify
from fangkong.core.access import allowed, staff_required
from fangkong.core.errors import DomainError
from fangkong.core.forms import add_domain_error
from fangkong.core.masking import mask_id_number, mask_phone
from fangkong.places.queries import buildings_for, communities_for, get_community_for, grids_for, street_for_writing
from fangkong.screening import lists as lists_format
from fangkong.screening import queries, services
from fangkong.screening.colors import COLOR_HANDLERS
from fangkong.screening.divisions import search_divisions
from fangkong.screening.forms import (
    ArrivalCodeForm,
    ArrivalFilterForm,
    ArrivalForm,
    ArrivalPhoneForm,
    ColorFilterForm,
    FollowUpAssignForm,
    FollowUpCloseForm,
    FollowUpContactForm,
    FollowUpOverrideForm,
    HouseholdVisitForm,
    ListImportForm,
    ListItemAnswerForm,
    ListItemFilterForm,
    RiskAreaEndForm,
    RiskAreaForm,
    RiskAreaImportForm,
    RoundHouseholdFilterForm,
    RoundStartForm,
    SelfReportForm,
    companions_from,
)
from fangkong.screening.models import Answer, Color
from fangkong.screening.permissions import (
    may_keep_risk_areas,
    may_manage_lists,
    may_manage_rounds,
    may_record_arrivals,
    may_work_lists,
)

# Follow-ups and the four colours

FOLLOW_UP_PAGE_SIZE = 50


@staff_required
def my_follow_ups(request):
    """The phone page a grid member opens: whom to call or visit today, by colour, overdue first."""
    rows = list(queries.my_follow_ups(request.user)[:300])
    groups = [{"color": color, "label": color.label, "handler": COLOR_HANDLERS[color],
               "rows": [r for r in rows if r.risk_color == color]} for color in Color]
    return TemplateResponse(request, "screening/followups_mine.html",
                            {"groups": groups, "today": timezone.localdate(), "total": len(rows)})


@staff_required
def color_board(request):
    communities = communities_for(request.user)
    community = get_community_for(request.user, request.GET["community"]) if request.GET.get("community") else None
    rows, totals = queries.color_board(request.user, community=community)
    template = "screening/followups_board.html#board" if request.htmx else "screening/followups_board.html"
    return TemplateResponse(request, template, {"rows": rows, "totals": totals, "colors": list(Color),
                                                "legend": COLOR_HANDLERS.items(), "communities": communities,
                                                "community": community})


@staff_required
def follow_up_list(request):
    form = ColorFilterForm(request.GET, grids=grids_for(request.user))
    data = form.cleaned_data if form.is_valid() else {"color": "", "grid": None}
    rows = (queries.follow_ups_for(request.user, color=data["color"], grid=data["grid"])
            .order_by("risk_color", "next_visit_on", "id"))
    page = Paginator(rows, FOLLOW_UP_PAGE_SIZE).get_page(request.GET.get("page"))
    return TemplateResponse(request, "screening/followups_list.html", {"form": form, "page": page,
                                                                       "today": timezone.localdate()})


def _follow_up_page(request, follow_up, *, forms=None, status=200):
    forms = forms or {}
    context = {
        "follow_up": follow_up, "person": follow_up.person,
        "history": queries.color_history(request.user, follow_up)[:50],
        "contacts": queries.contacts_of(request.user, follow_up)[:50],
        "handler": COLOR_HANDLERS[Color(follow_up.risk_color)],
        "contact_form": forms.get("contact") or FollowUpContactForm(),
        "override_form": forms.get("override") or FollowUpOverrideForm(initial={"color": follow_up.override_color}),
        "assign_form": forms.get("assign") or FollowUpAssignForm(
            candidates=queries.responsible_candidates(request.user, follow_up),
            initial={"responsible": follow_up.responsible_id}),
        "close_form": forms.get("close") or FollowUpCloseForm(),
        "today": timezone.localdate(),
    }
    return TemplateResponse(request, "screening/followup_detail.html", context, status=status)


@staff_required
def follow_up_detail(request, pk):
    return _follow_up_page(request, queries.get_follow_up_for(request.user, pk))


def _follow_up_action(request, pk, form_key, form, apply):
    """Validate a follow-up form, run its service, and come back to the page (with errors when refused)."""
    follow_up = queries.get_follow_up_for(request.user, pk)
    if form.is_valid():
        try:
            apply(follow_up, form.cleaned_data)
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("已保存"))
            return redirect("screening:follow_up_detail", pk=follow_up.pk)
    return _follow_up_page(request, follow_up, forms={form_key: form}, status=400)


@require_POST
@staff_required
def follow_up_contact(request, pk):
    def apply(follow_up, data):
        services.follow_up_record_contact(actor=request.user, follow_up=follow_up, outcome=data["outcome"],
                                          cooperating=data["cooperating"], verified=data["verified"],
                                          left_community=data["left_community"], note=data["note"])

    return _follow_up_action(request, pk, "contact", FollowUpContactForm(request.POST), apply)


@require_POST
@staff_required
def follow_up_override(request, pk):
    def apply(follow_up, data):
        services.follow_up_override(actor=request.user, follow_up=follow_up, color=data["color"], reason=data["reason"])

    return _follow_up_action(request, pk, "override", FollowUpOverrideForm(request.POST), apply)


@require_POST
@staff_required
def follow_up_assign(request, pk):
    follow_up = queries.get_follow_up_for(request.user, pk)
    form = FollowUpAssignForm(request.POST, candidates=queries.responsible_candidates(request.user, follow_up))

    def apply(follow_up, data):
        services.follow_up_assign(actor=request.user, follow_up=follow_up, responsible=data["responsible"])

    return _follow_up_action(request, pk, "assign", form, apply)


@require_POST
@staff_required
def follow_up_close(request, pk):
    def apply(follow_up, data):
        services.follow_up_close(actor=request.user, follow_up=follow_up, reason=data["reason"])

    return _follow_up_action(request, pk, "close", FollowUpCloseForm(request.POST), apply)



# Risk areas and arrivals

ARRIVALS_PAGE_SIZE = 50
HEALTH_ME_PATH = "/health/me/"


@staff_required
def arrivals(request):
    form = ArrivalFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    rows = queries.arrivals_for(request.user, exposed=filters.get("exposed"), since=filters.get("since"))
    page = Paginator(rows, ARRIVALS_PAGE_SIZE).get_page(request.GET.get("page"))
    return TemplateResponse(request, "screening/arrival_list.html", {
        "form": form, "page": page, "may_record": may_record_arrivals(request.user)})


def _companion_rows(request) -> list[dict]:
    """The companion rows to show again: those typed, plus one blank when '添加同行人' was pressed (or none yet)."""
    rows = companions_from(request.POST) if request.method == "POST" else []
    if "add_companion" in request.POST or not rows:
        rows.append({"name": "", "id_number": "", "relationship": ""})
    return rows


@allowed(may_record_arrivals)
def arrival_create(request):
    form = ArrivalForm(request.POST or None, actor=request.user)
    if request.method == "POST" and "add_companion" not in request.POST and form.is_valid():
        try:
            arrival = services.arrival_record(
                actor=request.user, community=form.cleaned_data["community"], household=form.cleaned_data["household"],
                person_data=form.person_data(), companions=companions_from(request.POST),
                notice_acknowledged=form.cleaned_data["notice_acknowledged"],
                commitment_signed=form.cleaned_data["commitment_signed"], **form.trip_values())
        except DomainError as err:
            add_domain_error(form, _origin_named(err))
        else:
            messages.success(request, _("已登记 %(p)s") % {"p": arrival.person})
            return redirect("screening:arrival_detail", pk=arrival.pk)
    return TemplateResponse(request, "screening/arrival_form.html", {
        "form": form, "companions": _companion_rows(request)})


def _origin_named(err: DomainError) -> DomainError:
    """The service says origin_code where the form has its 来源地 box."""
    fields = {("origin" if field == "origin_code" else field): message for field, message in err.fields.items()}
    return DomainError(err.message, code=err.code, fields=fields)


@staff_required
def arrival_detail(request, pk):
    arrival = queries.get_arrival_for(request.user, pk)
    if request.method == "POST":
        services.arrival_acknowledge(actor=request.user, arrival=arrival)
        messages.success(request, _("已记录签收时间"))
        return redirect("screening:arrival_detail", pk=arrival.pk)
    return TemplateResponse(request, "screening/arrival_detail.html", {
        "arrival": arrival, "companions": queries.companions_of(request.user, arrival),
        "history": queries.arrivals_of_person(request.user, arrival.person),
        "may_record": may_record_arrivals(request.user)})


def _risk_area_action(request):
    """Run the create / end / import the POST asks for; return the forms to show again with their errors."""
    forms_shown = {"create_form": RiskAreaForm(), "import_form": RiskAreaImportForm(), "end_error": ""}
    if not may_keep_risk_areas(request.user):
        raise PermissionDenied
    street = street_for_writing(request.user)
    action = request.POST.get("action")
    try:
        if action == "create":
            form = forms_shown["create_form"] = RiskAreaForm(request.POST)
            if not form.is_valid():
                return forms_shown
            data = form.cleaned_data
            services.risk_area_create(actor=request.user, street=street, division_code=data["division"],
                                      level=data["level"], valid_from=data["valid_from"], valid_to=data["valid_to"],
                                      note=data["note"])
        elif action == "end":
            form = RiskAreaEndForm(request.POST)
            area = queries.get_risk_area_for(request.user, request.POST.get("risk_area"))
            if not form.is_valid():
                forms_shown["end_error"] = _("请填写解除日期")
                return forms_shown
            services.risk_area_end(actor=request.user, risk_area=area, valid_to=form.cleaned_data["valid_to"])
        elif action == "import":
            form = forms_shown["import_form"] = RiskAreaImportForm(request.POST, request.FILES)
            if not form.is_valid():
                return forms_shown
            areas = services.risk_areas_import(actor=request.user, street=street, file=form.cleaned_data["file"])
            messages.success(request, _("已导入 %(n)d 个风险地区") % {"n": len(areas)})
    except DomainError as err:
        target = forms_shown["import_form"] if action == "import" else forms_shown["create_form"]
        if action == "end":
            forms_shown["end_error"] = err.message
        else:
            add_domain_error(target, DomainError(err.message, fields={
                ("division" if f == "division_code" else f): m for f, m in err.fields.items()}))
        return forms_shown
    return None


@staff_required
def risk_areas(request):
    shown = {"create_form": RiskAreaForm(), "import_form": RiskAreaImportForm(), "end_error": ""}
    if request.method == "POST":
        shown = _risk_area_action(request)
        if shown is None:
            return redirect("screening:risk_areas")
    return TemplateResponse(request, "screening/arrival_risk_areas.html", {
        **shown, "areas": queries.risk_areas_for(request.user), "today": timezone.localdate(),
        "may_write": may_keep_risk_areas(request.user)})


@staff_required
def poster(request, pk):
    """The community's printable poster: a QR code of the public self-report page."""
    community = get_community_for(request.user, pk)
    url = request.build_absolute_uri(reverse("screening:arrival_self_report", args=[queries.poster_token(community)]))
    qr = segno.make(url, error="m").svg_inline(scale=10, border=2)
    return TemplateResponse(request, "screening/arrival_poster.html", {"community": community, "qr": qr, "url": url})


def divisions(request):
    """Division suggestions for the 来源地 box: JSON, or <option>s for a datalist (?format=options). Public."""
    found = search_divisions(request.GET.get("q", "")[:30], limit=15)
    if request.GET.get("format") == "options":
        return TemplateResponse(request, "screening/arrival_divisions.html", {"divisions": found})
    return JsonResponse({"items": [{"code": d.code, "name": d.name, "full_name": d.full_name} for d in found]})


def _session_key(community) -> str:
    return f"arrival-phone:{community.pk}"


def _self_report_page(request, community, token, **context):
    return TemplateResponse(request, "screening/arrival_self_report.html", {
        "community": community, "token": token, "health_url": HEALTH_ME_PATH, **context})


def _phone_step(request, community, token):
    """Step one: the phone gets a code; the code proves the phone; then the form opens."""
    if request.POST.get("step") == "code":
        form = ArrivalCodeForm(request.POST)
        if form.is_valid():
            try:
                phone = registration_code_verify(phone=form.cleaned_data["phone"], code=form.cleaned_data["code"])
            except DomainError as err:
                add_domain_error(form, err)
            else:
                request.session[_session_key(community)] = phone
                return redirect("screening:arrival_self_report", token=token)
        return _self_report_page(request, community, token, step="code", form=form)
    form = ArrivalPhoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            phone = registration_code_request(phone=form.cleaned_data["phone"])
        except DomainError as err:
            add_domain_error(form, err)
        else:
            return _self_report_page(request, community, token, step="code",
                                     form=ArrivalCodeForm(initial={"phone": phone}))
    return _self_report_page(request, community, token, step="phone", form=form)


def _report_step(request, community, token, phone):
    form = SelfReportForm(request.POST or None, community=community)
    if request.method == "POST" and "add_companion" not in request.POST and form.is_valid():
        data = form.cleaned_data
        try:
            arrival, account = services.arrival_self_report(
                phone=phone, community=community, household=data["household"],
                person_data={"name": data["name"], "id_number": data["id_number"]},
                companions=companions_from(request.POST), notice_acknowledged=data["notice_acknowledged"],
                commitment_signed=data["commitment_signed"], **form.trip_values())
        except DomainError as err:
            add_domain_error(form, _origin_named(err))
        else:
            login(request, account, backend="django.contrib.auth.backends.ModelBackend")
            request.session["arrival-done"] = arrival.pk
            return redirect("screening:arrival_self_report", token=token)
    return _self_report_page(request, community, token, step="report", form=form, phone=phone,
                             companions=_companion_rows(request))


def arrival_self_report(request, token):
    """The public page a poster's QR code opens: phone → code → the arrival form → confirmation."""
    community = queries.community_of_poster(token)
    done = request.session.pop("arrival-done", None) if request.method == "GET" else None
    if done and request.user.is_authenticated:
        arrival = queries.arrivals_for(request.user).filter(pk=done).first()
        if arrival is not None:
            return _self_report_page(request, community, token, step="done", arrival=arrival,
                                     companions=queries.companions_of(request.user, arrival))
    phone = request.session.get(_session_key(community))
    if phone:
        return _report_step(request, community, token, phone)
    return _phone_step(request, community, token)


# Verification lists

LIST_PAGE_SIZE = 100

list_worker_required = allowed(may_work_lists)
list_manager_required = allowed(may_manage_lists)


def _countdown(deadline, now) -> dict:
    """Time left to a list's deadline (or past it), as the page first shows it; app's ticker keeps it live."""
    seconds = int((deadline - now).total_seconds())
    minutes = abs(seconds) // 60
    return {"overdue": seconds < 0, "hours": minutes // 60, "minutes": minutes % 60, "deadline": deadline}


def _dressed(item):
    """What a row shows: its ID number and phone masked."""
    item.masked_id_number = mask_id_number(item.id_number)
    item.masked_phone = mask_phone(item.phone)
    return item


@list_worker_required
def lists(request):
    now = timezone.now()
    batches = list(queries.batches_for(request.user).order_by("-received_at", "-id")[:200])
    for batch in batches:
        batch.countdown = _countdown(batch.deadline, now)
    return TemplateResponse(request, "screening/lists_index.html",
                            {"batches": batches, "may_import": may_manage_lists(request.user)})


@list_manager_required
def list_import(request):
    form = ListImportForm(request.POST or None, request.FILES or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        data, upload = form.cleaned_data, form.cleaned_data["file"]
        try:
            batch = services.verification_batch_import(
                actor=request.user, file_name=upload.name, data=upload.read(), title=data["title"],
                deadline=data["deadline"], hours=None if data["deadline"] else data["hours"],
                issued_by=data["issued_by"], community=data["community"])
        except DomainError as err:
            add_domain_error(form, err)
        else:
            matched = batch.items.exclude(person=None).count()
            messages.success(request, _("已导入 %(n)d 行,匹配到 %(m)d 人") % {"n": batch.row_count, "m": matched})
            return redirect("screening:list_detail", pk=batch.pk)
    return TemplateResponse(request, "screening/lists_import.html", {"form": form}, status=400 if form.errors else 200)


@list_worker_required
def list_detail(request, pk):
    batch = queries.get_batch_for(request.user, pk)
    filters = ListItemFilterForm(request.GET)
    chosen = filters.cleaned_data if filters.is_valid() else {}
    items = queries.items_for(request.user, batch, mine=chosen.get("mine", False), queue=chosen.get("queue", False),
                              unanswered=chosen.get("unanswered", False))
    batch.countdown = _countdown(batch.deadline, timezone.now())
    page = Paginator(items, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    for item in page:
        _dressed(item)
    return TemplateResponse(request, "screening/lists_detail.html",
                            {"batch": batch, "filters": filters, "page": page, "answers": Answer.choices})


@list_worker_required
def list_export(request, pk):
    batch = queries.get_batch_for(request.user, pk)
    fmt = request.GET.get("fmt", "xlsx")
    try:
        content = services.verification_batch_export(actor=request.user, batch=batch, fmt=fmt)
    except DomainError as err:
        messages.error(request, err.message)
        return redirect("screening:list_detail", pk=batch.pk)
    response = HttpResponse(content, content_type="application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(True, lists_format.export_file_name(batch, fmt))
    return response


@require_POST
@list_worker_required
def list_item_answer(request, pk):
    """One row's answer, from its inline form; an HTMX request gets the row back, re-rendered."""
    item = queries.get_item_for(request.user, pk)
    form = ListItemAnswerForm(request.POST)
    error, status = "", 200
    if form.is_valid():
        try:
            item = services.verification_item_answer(actor=request.user, item=item, answer=form.cleaned_data["answer"],
                                                     note=form.cleaned_data["note"])
        except DomainError as err:
            error, status = err.message, 400
    else:
        error, status = _("核查结果无效,请从列表中选择"), 400
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("screening:list_detail", pk=item.batch_id)
    return TemplateResponse(request, "screening/lists_detail.html#row",
                            {"item": _dressed(item), "error": error, "answers": Answer.choices}, status=status)



# Screening rounds

ROUND_PAGE_SIZE = 50
ROUND_HOUSEHOLD_PAGE_SIZE = 30
PRINT_LIMIT = 2000


@staff_required
def rounds(request):
    """The rounds in scope, and the form to start one (community staff, street, administrator)."""
    user = request.user
    may_manage = may_manage_rounds(user)
    form = RoundStartForm(request.POST or None, communities=communities_for(user),
                          grids=grids_for(user).order_by("community__name", "name"))
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied
        if form.is_valid():
            try:
                round = services.screening_round_start(actor=user, community=form.cleaned_data["community"],
                                                       name=form.cleaned_data["name"], grids=form.cleaned_data["grids"])
            except DomainError as err:
                add_domain_error(form, err)
            else:
                messages.success(request, _("已发起 %(r)s") % {"r": round})
                return redirect("screening:round_detail", pk=round.pk)
    page = Paginator(queries.rounds_for(user), ROUND_PAGE_SIZE).get_page(request.GET.get("page"))
    return TemplateResponse(request, "screening/rounds_list.html", {"form": form, "page": page,
                                                                    "may_manage": may_manage},
                            status=400 if form.errors else 200)


@staff_required
def round_detail(request, pk):
    """Progress by grid; the table re-renders itself every 10 s (HTMX asks for the named partial)."""
    round = queries.get_round_for(request.user, pk)
    grids, total = queries.round_progress(request.user, round)
    context = {"round": round, "grids": grids, "total": total, "may_manage": may_manage_rounds(request.user)}
    if request.htmx:
        return TemplateResponse(request, "screening/rounds_detail.html#progress", context)
    context["anomalies"] = queries.round_anomalies(request.user, round)
    return TemplateResponse(request, "screening/rounds_detail.html", context)


def _household_filters(request, round):
    user = request.user
    buildings = buildings_for(user).filter(community_id=round.community_id).order_by("compound__name", "number")
    form = RoundHouseholdFilterForm(request.GET, grids=grids_for(user, community=round.community_id),
                                    buildings=buildings)
    data = form.cleaned_data if form.is_valid() else {"status": "", "grid": None, "building": None}
    return form, data


@staff_required
def round_households(request, pk):
    """The phone list of a round's households, each with its visit form; ?print=1 is the printable list."""
    round = queries.get_round_for(request.user, pk)
    form, data = _household_filters(request, round)
    rows = queries.round_households(request.user, round, status=data["status"], grid=data["grid"],
                                    building=data["building"])
    context = {"round": round, "form": form, "status": data["status"]}
    if request.GET.get("print") == "1":
        return TemplateResponse(request, "screening/rounds_print.html", {**context, "rows": rows[:PRINT_LIMIT],
                                                                         "limit": PRINT_LIMIT})
    page = Paginator(rows, ROUND_HOUSEHOLD_PAGE_SIZE).get_page(request.GET.get("page"))
    for row in page:
        row.visit_form = HouseholdVisitForm(prefix=f"h{row.pk}")
    return TemplateResponse(request, "screening/rounds_households.html", {**context, "page": page})


@require_POST
@staff_required
def round_visit(request, pk, household_pk):
    """Record a visit from a household's inline form; HTMX gets the household's row back."""
    round = queries.get_round_for(request.user, pk)
    row = queries.get_round_household_for(request.user, round, household_pk)
    form = HouseholdVisitForm(request.POST, prefix=f"h{row.pk}")
    saved = False
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.household_visit_record(actor=request.user, round=round, household=row, method=data["method"],
                                            people_present=data["people_present"], anomalies=data["anomalies"],
                                            note=data["note"], new_persons=form.new_persons())
        except DomainError as err:
            add_domain_error(form, err)
        else:
            saved = True
            row = queries.get_round_household_for(request.user, round, household_pk)
            form = HouseholdVisitForm(prefix=f"h{row.pk}")
    if not request.htmx:
        if saved:
            messages.success(request, _("%(h)s 已登记") % {"h": row.shorthand})
        else:
            messages.error(request, "; ".join(message for errors in form.errors.values() for message in errors))
        return redirect(reverse("screening:round_households", args=[round.pk]) + "?" + request.GET.urlencode())
    row.visit_form = form
    return TemplateResponse(request, "screening/rounds_households.html#household",
                            {"round": round, "row": row, "saved": saved})


@require_POST
@staff_required
def round_close(request, pk):
    round = queries.get_round_for(request.user, pk)
    try:
        services.screening_round_close(actor=request.user, round=round)
    except DomainError as err:
        messages.error(request, err.message)
    else:
        messages.success(request, _("%(r)s 已结束") % {"r": round})
    return redirect("screening:round_detail", pk=round.pk)
