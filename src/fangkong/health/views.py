"""Console and resident pages for observations and health checks."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from fangkong.core.access import staff_required
from fangkong.core.actions import page_action
from fangkong.core.errors import DomainError
from fangkong.core.forms import add_domain_error, id_param
from fangkong.core.roles import is_staff_member
from fangkong.health import queries, services
from fangkong.health.forms import (
    AlertHandleForm,
    CaseFilterForm,
    CaseOpenForm,
    CaseSeverityForm,
    CaseStatusForm,
    CheckForm,
    ContactAddForm,
    ContactPolicyForm,
    ContactRemoveForm,
    DestinationForm,
    EndEarlyForm,
    ExtendForm,
    ObservationFilterForm,
    ObservationStartForm,
    PolicyForm,
    ReleaseForm,
    TransferCancelForm,
    TransferDetailsForm,
    TransferForm,
    TransferMomentForm,
    TransferScheduleForm,
)
from fangkong.health.models import Case, CheckWindow, Destination
from fangkong.health.permissions import may_manage_destinations, may_record_cases, policy_street_for
from fangkong.people.queries import get_person_for
from fangkong.people.services import person_search
from fangkong.places.queries import streets_for

PAGE_SIZE = 50


@staff_required
def observation_list(request):
    form = ObservationFilterForm(request.GET or None, actor=request.user)
    filters = form.cleaned_data if form.is_valid() else {}
    observations = queries.observations_for(request.user, status=filters.get("status", ""),
                                            kind=filters.get("kind", ""), grid=filters.get("grid"))
    page = Paginator(observations, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = queries.with_check_counts(page.object_list)
    return TemplateResponse(request, "health/observation_list.html", {"form": form, "page": page})


@staff_required
def observation_create(request):
    person = get_person_for(request.user, id_param(request.GET.get("person")))
    form = ObservationStartForm(request.POST or None, person=person)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            observation = services.observation_start(
                actor=request.user, person=person, kind=data["kind"], reason=data["reason"],
                reason_note=data["reason_note"], starts_on=data["starts_on"], planned_end_on=data["planned_end_on"],
                site=data["site"], team=form.team())
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("已登记 %(o)s") % {"o": observation})
            return redirect("health:observation_detail", pk=observation.pk)
    return TemplateResponse(request, "health/observation_form.html", {"form": form, "person": person})


def _detail(request, observation, *, forms=None, status=200):
    forms = {"extend_form": ExtendForm(), "release_form": ReleaseForm(), "end_early_form": EndEarlyForm(),
             "transfer_form": TransferForm(), "check_form": CheckForm(), **(forms or {})}
    context = {"observation": queries.with_check_counts([observation])[0],
               "checks": queries.checks_of_observation(request.user, observation),
               "changes": queries.changes_of_observation(observation), **forms}
    return TemplateResponse(request, "health/observation_detail.html", context, status=status)


@never_cache
@staff_required
def observation_detail(request, pk):
    return _detail(request, queries.get_observation_for(request.user, pk))


def _action(form_class, form_name, call, done):
    """A POSTed action on the observation page; `call` takes the form's cleaned data."""
    return page_action(get=queries.get_observation_for, page=_detail, form_name=form_name, done=done,
                       make_form=lambda request, observation: form_class(request.POST),
                       call=lambda actor, observation, form: call(actor, observation, form.cleaned_data),
                       target=lambda observation, result: reverse("health:observation_detail", args=[observation.pk]))


observation_extend = _action(
    ExtendForm, "extend_form",
    lambda actor, obs, data: services.observation_extend(actor=actor, observation=obs, days=data["days"],
                                                         until=data["until"], reason=data["reason"]),
    _("已延长隔离观察"))
observation_release = _action(
    ReleaseForm, "release_form",
    lambda actor, obs, data: services.observation_release(actor=actor, observation=obs, reason=data["reason"]),
    _("已解除隔离观察"))
observation_end_early = _action(
    EndEarlyForm, "end_early_form",
    lambda actor, obs, data: services.observation_end_early(actor=actor, observation=obs, reason=data["reason"]),
    _("已提前结束隔离观察"))
observation_transfer = _action(
    TransferForm, "transfer_form",
    lambda actor, obs, data: services.observation_transfer(actor=actor, observation=obs, site=data["site"]),
    _("已转集中隔离"))
observation_check = _action(
    CheckForm, "check_form",
    lambda actor, obs, data: services.health_check_record(
        actor=actor, observation=obs, temperature=data["temperature"], symptoms=data["symptoms"],
        reporter=data["reporter"], client_id=data["client_id"]),
    _("已记录体温"))


def _pending_window(request):
    day, window = queries.current_window()
    requested = request.GET.get("window", "")
    return day, requested if requested in CheckWindow.values else window


@staff_required
def checks_pending(request):
    """Who has not reported in this window, by building, each with a quick check form."""
    day, window = _pending_window(request)
    observations = list(queries.not_yet_reported(request.user, day, window)[:500])
    rows = [(observation, CheckForm(prefix=f"o{observation.pk}")) for observation in observations]
    return TemplateResponse(request, "health/checks_pending.html",
                            {"rows": rows, "day": day, "window": CheckWindow(window), "windows": CheckWindow.choices})


@never_cache
@require_POST
@staff_required
def check_quick(request, pk):
    """The inline form of the pending list: answers the row, recorded or with its error."""
    observation = queries.get_observation_for(request.user, pk)
    form = CheckForm(request.POST, prefix=f"o{observation.pk}")
    check = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            check = services.health_check_record(actor=request.user, observation=observation,
                                                 temperature=data["temperature"], symptoms=data["symptoms"],
                                                 reporter=data["reporter"], client_id=data["client_id"])
        except DomainError as err:
            add_domain_error(form, err)
    if not request.htmx:
        if check is not None:
            messages.success(request, _("已记录 %(p)s 的体温") % {"p": observation.person})
        return redirect("health:checks_pending")
    return TemplateResponse(request, "health/checks_pending.html#row",
                            {"observation": observation, "form": form, "check": check})


@staff_required
def alerts(request):
    alert_list = queries.alerts_for(request.user, handled=None)
    page = Paginator(alert_list, PAGE_SIZE).get_page(request.GET.get("page"))
    return TemplateResponse(request, "health/alerts.html",
                            {"page": page, "mine": queries.my_alerts(request.user).count(), "form": AlertHandleForm()})


@never_cache
@require_POST
@staff_required
def alert_handle(request, pk):
    alert = queries.get_alert_for(request.user, pk)
    form = AlertHandleForm(request.POST)
    if form.is_valid():
        try:
            services.health_alert_handle(actor=request.user, alert=alert, note=form.cleaned_data["note"])
        except DomainError as err:
            messages.error(request, err.message)
        else:
            messages.success(request, _("已处理"))
    else:
        messages.error(request, _("请填写处理情况"))
    return redirect("health:alerts")


@staff_required
def policies(request):
    form = PolicyForm(request.POST or None)
    street = policy_street_for(request.user)
    if request.method == "POST" and street is not None and form.is_valid():
        try:
            services.observation_policy_set(actor=request.user, street=street, **form.cleaned_data)
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("隔离政策已保存"))
            return redirect("health:policies")
    return TemplateResponse(request, "health/policies.html",
                            {"form": form, "policies": queries.policies_for(request.user), "street": street,
                             "may_set": street is not None})


def _member_forms(request, observations):
    """One check form per observed household member, prefixed by the observation."""
    data = request.POST if request.method == "POST" else None
    return [(observation, CheckForm(data, prefix=f"o{observation.pk}", resident=True)) for observation in observations]


def _record_members(request, rows) -> bool:
    """Record each filled-in form, or only the one whose button was pressed; False when any was refused."""
    only = request.POST.get("only", "")
    recorded, refused = 0, False
    for observation, form in rows:
        if only and only != str(observation.pk):
            continue
        if not form.is_valid():
            refused = True
            continue
        if not form.cleaned_data["temperature"].strip() and not only:
            continue
        data = form.cleaned_data
        try:
            services.health_check_record(actor=request.user, observation=observation, temperature=data["temperature"],
                                         symptoms=data["symptoms"], client_id=data["client_id"])
        except DomainError as err:
            add_domain_error(form, err)
            refused = True
        else:
            recorded += 1
    if not recorded and not refused:
        messages.error(request, _("请至少填写一人的体温"))
    return recorded > 0 and not refused


@never_cache
@login_required(login_url="accounts:resident_login")
def me(request):
    """A resident reports the temperatures of every household member under observation, phone first."""
    if is_staff_member(request.user):
        return redirect("health:observations")
    rows = _member_forms(request, queries.household_observations(request.user))
    if request.method == "POST" and _record_members(request, rows):
        messages.success(request, _("已提交,谢谢配合"))
        return redirect("health:me")
    today, window = queries.current_window()
    return TemplateResponse(request, "health/me.html",
                            {"rows": rows, "window": CheckWindow(window), "today": today},
                            status=400 if request.method == "POST" else 200)



# ---------------------------------------------------------------------------
# Cases and contacts
# ---------------------------------------------------------------------------

def _case_person(request):
    """The person a new case is for (?person=<id>), or None while the worker is still searching."""
    if not request.GET.get("person"):
        return None
    return get_person_for(request.user, id_param(request.GET.get("person")))


@staff_required
def case_list(request):
    form = CaseFilterForm(request.GET or None, actor=request.user)
    filters = form.cleaned_data if form.is_valid() else {}
    cases = queries.cases_for(request.user, status=filters.get("status", ""), grid=filters.get("grid"))
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = queries.case_counts(request.user)
    return TemplateResponse(request, "health/case_list.html",
                            {"form": form, "page": page,
                             "counts": [(Case.Status(s).label, n) for s, n in counts.items()],
                             "may_record": may_record_cases(request.user)})


@never_cache
@staff_required
def case_create(request):
    """Pick the person by search (as for an observation), then record the positive."""
    person = _case_person(request)
    if person is None:
        text = request.GET.get("q", "").strip()
        found = person_search(actor=request.user, text=text)[:20] if text else []
        return TemplateResponse(request, "health/case_pick.html", {"q": text, "found": found})
    form = CaseOpenForm(request.POST or None, initial={"confirmed_at": timezone.localtime()})
    if request.method == "POST" and form.is_valid():
        try:
            case = services.case_open(actor=request.user, person=person, **form.cleaned_data)
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("已登记阳性病例 %(p)s") % {"p": person.name})
            return redirect("health:case_detail", pk=case.pk)
    return TemplateResponse(request, "health/case_form.html", {"form": form, "person": person},
                            status=400 if request.method == "POST" else 200)


def _case_page(request, case, *, forms=None, status=200):
    contact_form = ContactAddForm(via_choices=queries.via_choices_for(request.user, case),
                                  initial={"last_exposure_at": timezone.localtime()})
    forms = {"status_form": CaseStatusForm(initial={"status": case.status, "location": case.location}),
             "severity_form": CaseSeverityForm(initial={"severity": case.severity}),
             "contact_form": contact_form, "remove_form": ContactRemoveForm(), **(forms or {})}
    text = request.GET.get("q", "").strip()
    context = {"case": case, "timeline": queries.case_timeline(request.user, case),
               "contacts": queries.contacts_of_case(request.user, case),
               "zones": queries.zones_of_case(request.user, case),
               "transfers": queries.transfers_of_case(request.user, case),
               "q": text, "found": person_search(actor=request.user, text=text)[:10] if text else [],
               "may_record": may_record_cases(request.user), **forms}
    return TemplateResponse(request, "health/case_detail.html", context, status=status)


@never_cache
@staff_required
def case_detail(request, pk):
    return _case_page(request, queries.get_case_for(request.user, pk))


def _case_action(make_form, form_name, call, done):
    """A POSTed form on the case page: make_form(request, case) builds it from the POST."""
    return page_action(get=queries.get_case_for, page=_case_page, form_name=form_name, call=call, done=done,
                       make_form=make_form, target=lambda case, result: reverse("health:case_detail", args=[case.pk]))


def _contact_form(request, case) -> ContactAddForm:
    return ContactAddForm(request.POST, via_choices=queries.via_choices_for(request.user, case))


def _add_contact(actor, case, form):
    data = form.cleaned_data
    person = get_person_for(actor, data["person"]) if data.get("person") else None
    services.contact_add(actor=actor, case=case, kind=data["kind"], source=data["source"],
                         last_exposure_at=data["last_exposure_at"], person=person, person_data=form.person_data(),
                         via=data["via"], note=data["note"])


case_status = _case_action(
    lambda request, case: CaseStatusForm(request.POST), "status_form",
    lambda actor, case, form: services.case_status_set(actor=actor, case=case, **form.cleaned_data),
    _("已更新病例状态"))
case_severity = _case_action(
    lambda request, case: CaseSeverityForm(request.POST), "severity_form",
    lambda actor, case, form: services.case_severity_set(actor=actor, case=case, **form.cleaned_data),
    _("已更新临床分型"))
case_contact_add = _case_action(_contact_form, "contact_form", _add_contact, _("已添加密接"))


@never_cache
@require_POST
@staff_required
def contact_remove(request, pk):
    contact = queries.get_contact_for(request.user, pk)
    form = ContactRemoveForm(request.POST)
    if form.is_valid():
        try:
            services.contact_remove(actor=request.user, contact=contact, reason=form.cleaned_data["reason"])
        except DomainError as err:
            messages.error(request, err.message)
        else:
            messages.success(request, _("已排除密接 %(p)s") % {"p": contact.person.name})
    else:
        messages.error(request, _("请填写排除原因"))
    return redirect("health:case_detail", pk=contact.case_id)


@staff_required
def contact_policies(request):
    street = policy_street_for(request.user)
    form = ContactPolicyForm(request.POST or None)
    if request.method == "POST" and street is not None and form.is_valid():
        try:
            services.contact_policy_set(actor=request.user, street=street, **form.cleaned_data)
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("密接管控政策已保存"))
            return redirect("health:contact_policies")
    shown = street or queries.first_street_for(request.user)
    rows = queries.contact_policy_rows(shown) if shown else []
    return TemplateResponse(request, "health/contact_policies.html",
                            {"form": form, "rows": rows, "street": street, "may_set": street is not None})


# ---------------------------------------------------------------------------
# Transfers
# ---------------------------------------------------------------------------

ROSTER_SIZE = 500


def _day_param(request) -> datetime.date:
    """?day=YYYY-MM-DD, today when missing or not a date."""
    try:
        return datetime.date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        return timezone.localdate()


@staff_required
def transfers(request):
    """The day's transfers by status, each with its passengers; people per day for the last two weeks on top."""
    day = _day_param(request)
    counts = queries.transfer_counts_by_day(request.user, *queries.transfer_counts_window(day))
    groups = queries.transfers_by_status(queries.transfers_for(request.user, day=day))
    context = {"day": day, "counts": counts, "groups": groups, "may_schedule": may_record_cases(request.user),
               "previous_day": day - datetime.timedelta(days=1), "next_day": day + datetime.timedelta(days=1)}
    return TemplateResponse(request, "health/transfer_list.html", context)


def _picked_people(request, source) -> list:
    return queries.get_persons_for(request.user, [id_param(pk) for pk in source.getlist("people") if pk])


def _candidates(request, picked: list):
    """Search results for the picker (the picked ones left out), or none before anything is typed."""
    text = request.GET.get("q", "").strip()
    if not text:
        return [], ""
    try:
        found = person_search(actor=request.user, text=text).exclude(pk__in=[p.pk for p in picked])[:20]
    except DomainError as err:
        return [], err.message
    return list(found), ""


@never_cache
@staff_required
def transfer_create(request):
    """Kind, destination, window, vehicle, crew, and the people picked by search (several at once)."""
    source = request.POST if request.method == "POST" else request.GET
    picked = _picked_people(request, source)
    kind = source.get("destination_kind", "")
    form = TransferScheduleForm(request.POST or None, actor=request.user,
                                kind=kind if kind in Destination.Kind.values else "")
    candidates, refusal = _candidates(request, picked)
    context = {"form": form, "picked": picked, "candidates": candidates, "refusal": refusal,
               "q": request.GET.get("q", "")}
    if request.htmx and request.method == "GET":
        return TemplateResponse(request, "health/transfer_form.html#picker", context)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            transfer = services.transfer_schedule(
                actor=request.user, destination_kind=data["destination_kind"], people=picked,
                window_start=data["window_start"], window_end=data["window_end"], destination=data["destination"],
                vehicle=data["vehicle"], crew=data["crew"], note=data["note"])
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("已安排%(t)s") % {"t": services.transfer_label(transfer)})
            return redirect("health:transfer_detail", pk=transfer.pk)
    return TemplateResponse(request, "health/transfer_form.html", context,
                            status=400 if request.method == "POST" else 200)


def _transfer_page(request, transfer, *, forms=None, status=200):
    initial = {name: getattr(transfer, name) for name in ("destination", "window_start", "window_end", "vehicle",
                                                           "crew", "note")}
    initial["window_start"] = timezone.localtime(transfer.window_start)
    initial["window_end"] = timezone.localtime(transfer.window_end)
    forms = {"edit_form": TransferDetailsForm(initial=initial, actor=request.user, kind=transfer.destination_kind),
             "pick_up_form": TransferMomentForm(prefix="pick_up"), "arrive_form": TransferMomentForm(prefix="arrive"),
             "cancel_form": TransferCancelForm(), **(forms or {})}
    context = {"transfer": transfer, "may_act": may_record_cases(request.user), **forms}
    return TemplateResponse(request, "health/transfer_detail.html", context, status=status)


@never_cache
@staff_required
def transfer_detail(request, pk):
    return _transfer_page(request, queries.get_transfer_for(request.user, pk))


def _transfer_action(make_form, form_name, call, done):
    """A POSTed step on the transfer page; `call` takes the form's cleaned data."""
    return page_action(get=queries.get_transfer_for, page=_transfer_page, form_name=form_name, make_form=make_form,
                       call=lambda actor, transfer, form: call(actor, transfer, form.cleaned_data), done=done,
                       target=lambda transfer, result: reverse("health:transfer_detail", args=[transfer.pk]))


transfer_edit = _transfer_action(
    lambda request, t: TransferDetailsForm(request.POST, actor=request.user, kind=t.destination_kind), "edit_form",
    lambda actor, t, data: services.transfer_update(actor=actor, transfer=t, **data), _("已保存转运安排"))
transfer_pick_up = _transfer_action(
    lambda request, t: TransferMomentForm(request.POST, prefix="pick_up"), "pick_up_form",
    lambda actor, t, data: services.transfer_pick_up(actor=actor, transfer=t, at=data["at"]), _("已登记接走"))
transfer_arrive = _transfer_action(
    lambda request, t: TransferMomentForm(request.POST, prefix="arrive"), "arrive_form",
    lambda actor, t, data: services.transfer_arrive(actor=actor, transfer=t, at=data["at"]), _("已登记送达"))
transfer_cancel = _transfer_action(
    lambda request, t: TransferCancelForm(request.POST), "cancel_form",
    lambda actor, t, data: services.transfer_cancel(actor=actor, transfer=t, reason=data["reason"]), _("已取消转运"))


def _destination_values(data) -> dict:
    return {name: data[name] for name in ("name", "kind", "address", "phone", "capacity")}


@staff_required
def destinations(request):
    """Hospitals, makeshift hospitals and central quarantine sites, with the people expected and arrived."""
    form = DestinationForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            destination = services.destination_create(actor=request.user, street=form.cleaned_data["street"],
                                                      **_destination_values(form.cleaned_data))
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("已登记 %(d)s") % {"d": destination})
            return redirect("health:destinations")
    return TemplateResponse(request, "health/destination_list.html",
                            {"form": form, "destinations": queries.destinations_for(request.user),
                             "may_manage": any(may_manage_destinations(request.user, street)
                                               for street in streets_for(request.user))},
                            status=400 if request.method == "POST" else 200)


@never_cache
@staff_required
def destination_detail(request, pk):
    """The site's own list, and its details for those who keep them."""
    destination = queries.get_destination_for(request.user, pk)
    initial = {name: getattr(destination, name) for name in ("name", "kind", "address", "phone", "capacity", "active")}
    form = DestinationForm(request.POST or None, initial=initial, actor=request.user, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.destination_update(actor=request.user, destination=destination, active=form.cleaned_data["active"],
                                        **_destination_values(form.cleaned_data))
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("已保存"))
            return redirect("health:destination_detail", pk=destination.pk)
    roster = list(queries.destination_roster(request.user, destination)[:ROSTER_SIZE])
    context = {"destination": destination, "roster": roster, "form": form,
               "may_manage": may_manage_destinations(request.user, destination.street)}
    return TemplateResponse(request, "health/destination_detail.html", context,
                            status=400 if request.method == "POST" else 200)
