"""Zone pages: the list, a zone with its countdown and history, proposals to accept, care inside."""

from django.contrib import messages
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
from fangkong.core.forms import add_domain_error
from fangkong.zones import queries, services
from fangkong.zones.forms import (
    AcceptForm,
    CareAssignForm,
    CareCheckForm,
    ChangeForm,
    DismissForm,
    DrawForm,
    LiftForm,
    MedicalExceptionForm,
    RoundForm,
    ZoneFilterForm,
    ZonePolicyForm,
)
from fangkong.zones.models import CareCheck, Level, Zone
from fangkong.zones.permissions import may_manage_zones
from fangkong.zones.unlock import DEFAULT_DAYS_WITHOUT_POSITIVE, DEFAULT_NEGATIVE_ROUNDS

PAGE_SIZE = 50


# ---------------------------------------------------------------------------
# Zones and their unlock dates
# ---------------------------------------------------------------------------

LIST_LIMIT = 500


@staff_required
def zone_list(request):
    """Proposals waiting first (accept or dismiss inline), then active zones with their countdown;
    ended ones by filter."""
    form = ZoneFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    status, level = filters.get("status", ""), filters.get("level", "")
    context = {"form": form, "status": status}
    if status:
        page = Paginator(queries.zones_for(request.user, status=status, level=level), PAGE_SIZE).get_page(
            request.GET.get("page"))
        page.object_list = queries.with_unlock(page.object_list)
        context["page"] = page
    else:
        zones = queries.with_unlock(queries.zones_for(request.user, level=level).live()[:LIST_LIMIT])
        context["proposals"] = [zone for zone in zones if zone.status == Zone.Status.PROPOSED]
        context["active"] = [zone for zone in zones if zone.status == Zone.Status.ACTIVE]
    context["may_manage"] = may_manage_zones(request.user)
    return TemplateResponse(request, "zones/zone_list.html", context)


def _detail(request, zone, *, forms=None, status=200):
    may_manage = may_manage_zones(request.user)
    may_change = may_manage and zone.status == Zone.Status.ACTIVE
    forms = {"accept_form": AcceptForm(), "dismiss_form": DismissForm(),
             "change_form": ChangeForm(zone=zone) if may_change else None,
             "lift_form": LiftForm(), "round_form": RoundForm(), **(forms or {})}
    context = {"zone": zone, "cases": queries.zone_cases(request.user, zone), "rounds": queries.zone_rounds(zone),
               "history": queries.zone_history(zone), "chain": queries.zone_chain(request.user, zone),
               "counts": queries.zone_counts(zone), "may_manage": may_manage, **forms}
    return TemplateResponse(request, "zones/zone_detail.html", context, status=status)


@never_cache
@staff_required
def zone_detail(request, pk):
    return _detail(request, queries.get_zone_for(request.user, pk))


def _zone_action(form_class, form_name, call, done):
    """A POSTed action on the zone page; a change goes on to the zone that replaced this one."""
    return page_action(get=queries.get_zone_for, page=_detail, form_name=form_name, call=call, done=done,
                       make_form=lambda request, zone: (form_class(request.POST, zone=zone) if form_class is ChangeForm
                                                        else form_class(request.POST)),
                       target=lambda zone, result: reverse("zones:detail",
                                                           args=[getattr(result, "zone_id", None) or result.pk]))


zone_accept = _zone_action(
    AcceptForm, "accept_form",
    lambda actor, zone, form: services.zone_accept(actor=actor, zone=zone, guarded=form.cleaned_data["guarded"],
                                                   rules=form.cleaned_data["rules"]),
    _("区域已确认生效"))
zone_dismiss = _zone_action(
    DismissForm, "dismiss_form",
    lambda actor, zone, form: services.zone_dismiss(actor=actor, zone=zone, reason=form.cleaned_data["reason"]),
    _("已不采纳该建议"))
zone_change = _zone_action(
    ChangeForm, "change_form",
    lambda actor, zone, form: services.zone_change(
        actor=actor, zone=zone, reason=form.cleaned_data["reason"], level=form.cleaned_data["level"],
        place=form.place_obj(), override_reason=form.cleaned_data["override_reason"]),
    _("区域已调整"))
zone_lift = _zone_action(
    LiftForm, "lift_form",
    lambda actor, zone, form: services.zone_lift(actor=actor, zone=zone, note=form.cleaned_data["note"],
                                                 override_reason=form.cleaned_data["override_reason"]),
    _("区域已解封"))
zone_round = _zone_action(
    RoundForm, "round_form",
    lambda actor, zone, form: services.zone_round_record(
        actor=actor, zone=zone, on=form.cleaned_data["on"], negative=form.cleaned_data["negative"],
        note=form.cleaned_data["note"]),
    _("已登记核酸轮次"))


@never_cache
@staff_required
def zone_draw(request):
    form = DrawForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid() and form.place is not None:
        data = form.cleaned_data
        try:
            zone = services.zone_draw(actor=request.user, level=data["level"], place=form.place, reason=data["reason"],
                                      rules=data["rules"], guarded=data["guarded"],
                                      override_reason=data["override_reason"])
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("已划定 %(zone)s") % {"zone": zone})
            return redirect("zones:detail", pk=zone.pk)
    status = 400 if request.method == "POST" else 200
    return TemplateResponse(request, "zones/zone_draw.html",
                            {"form": form, "may_manage": may_manage_zones(request.user)}, status=status)


@never_cache
@staff_required
def zone_policies(request):
    form = ZonePolicyForm(request.POST or None)
    street = queries.policy_street_for(request.user)
    if request.method == "POST" and street is not None and form.is_valid():
        try:
            services.zone_policy_set(actor=request.user, street=street, **form.cleaned_data)
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("解封政策已保存"))
            return redirect("zones:policies")
    return TemplateResponse(request, "zones/zone_policies.html",
                            {"form": form, "policies": queries.policies_for(request.user), "street": street,
                             "defaults": _defaults(),
                             "may_set": street is not None and may_manage_zones(request.user)},
                            status=400 if request.method == "POST" else 200)


def _defaults() -> list[tuple[str, int, int]]:
    return [(label, DEFAULT_DAYS_WITHOUT_POSITIVE, DEFAULT_NEGATIVE_ROUNDS[level]) for level, label in Level.choices]


# ---------------------------------------------------------------------------
# Care inside zones
# ---------------------------------------------------------------------------


def _care_page(request, zone, *, exception_form=None, status=200):
    exception_form = exception_form or MedicalExceptionForm(residents=queries.zone_residents(request.user, zone))
    context = {"zone": zone, "people": queries.zone_people(request.user, zone), "today": timezone.localdate(),
               "exception_form": exception_form, "exceptions": queries.exceptions_of_zone(request.user, zone),
               "outcomes": CareCheck.Outcome, "assignees": list(queries.care_assignees(request.user, zone))}
    return TemplateResponse(request, "zones/care_zone.html", context, status=status)


@never_cache
@staff_required
def care(request, pk):
    """Everyone inside a zone, the vulnerable first with today's check and three quick buttons; medical exceptions."""
    return _care_page(request, queries.get_care_zone_for(request.user, pk))


@never_cache
@require_POST
@staff_required
def care_check(request, pk):
    """One tap on a care task: answers the person's card (HTMX) or goes back to the care page."""
    task = queries.get_care_task_for(request.user, pk)
    return _card_action(request, task, CareCheckForm(request.POST),
                        lambda data: services.care_check_record(actor=request.user, task=task, **data),
                        assignees=queries.care_assignees(request.user, task.zone),
                        invalid=_("请选择情况"), done=_("已记录 %(p)s 今天的情况") % {"p": task.person.name})


@never_cache
@require_POST
@staff_required
def care_assign(request, pk):
    """Name who looks in on the person each day, from the card's drop-down."""
    task = queries.get_care_task_for(request.user, pk)
    assignees = queries.care_assignees(request.user, task.zone)
    form = CareAssignForm(request.POST, assignees=assignees)

    def assign(data):
        services.care_task_assign(actor=request.user, task=task, assignee=data["assignee"])

    return _card_action(request, task, form, assign, assignees=assignees, invalid=_("请从列表中选择责任人"),
                        done=_("已指派 %(p)s 的每日关照责任人") % {"p": task.person.name})


def _card_action(request, task, form, write, *, assignees, invalid: str, done: str):
    """A form on a person's card: the write, then the card answered (HTMX) or back to the care page with a message.

    `assignees` (the care_assignees queryset, not yet read) fills the card's drop-down.
    """
    error = ""
    if form.is_valid():
        try:
            write(form.cleaned_data)
        except DomainError as err:
            error = err.message
    else:
        error = invalid
    if request.htmx:
        context = {"row": queries.care_row_of_task(request.user, task), "error": error,
                   "outcomes": CareCheck.Outcome, "assignees": list(assignees)}
        return TemplateResponse(request, "zones/care_zone.html#person", context, status=400 if error else 200)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, done)
    return redirect("zones:care", pk=task.zone_id)


@never_cache
@require_POST
@staff_required
def care_exception(request, pk):
    """Record a medical exception from the care page; never refused because of the zone."""
    zone = queries.get_care_zone_for(request.user, pk)
    form = MedicalExceptionForm(request.POST, residents=queries.zone_residents(request.user, zone))
    if form.is_valid():
        try:
            exception = services.medical_exception_allow(actor=request.user, zone=zone, **form.cleaned_data)
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("已登记就医例外:%(p)s %(n)s") % {
                "p": exception.person.name, "n": exception.get_need_display()})
            return redirect("zones:care", pk=zone.pk)
    return _care_page(request, zone, exception_form=form, status=400)


@staff_required
def care_today(request):
    """Every care task in scope not yet checked today, zone by zone."""
    today = timezone.localdate()
    tasks = list(queries.care_tasks_due(request.user, today)[:LIST_LIMIT])
    return TemplateResponse(request, "zones/care_today.html", {"tasks": tasks, "today": today})
