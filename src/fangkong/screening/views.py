"""Console pages for following people: colours and follow-ups, risk areas and arrivals, lists, rounds."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fangkong.core.access import staff_required
from fangkong.core.errors import DomainError
from fangkong.core.forms import add_domain_error
from fangkong.places.queries import communities_for, get_community_for, grids_for
from fangkong.screening.colors import COLOR_HANDLERS
from fangkong.screening.forms import (ColorFilterForm, FollowUpAssignForm, FollowUpCloseForm, FollowUpContactForm,
                                      FollowUpOverrideForm)
from fangkong.screening.models import Color

from fangkong.screening import queries, services


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
    rows = queries.follow_ups_for(request.user, color=data["color"], grid=data["grid"]).order_by("risk_color", "next_visit_on", "id")
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


# Verification lists


# Screening rounds
