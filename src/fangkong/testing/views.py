"""Testing pages: rounds and sites, the sampler's scanner, lab results, coverage and figures."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from fangkong.core.access import allowed, staff_required
from fangkong.core.errors import DomainError
from fangkong.core.forms import add_domain_error, id_param
from fangkong.core.jobs import POLL_SECONDS
from fangkong.core.roles import is_resident, is_staff_member
from fangkong.people.codes import personal_code_svg
from fangkong.people.models import Tag
from fangkong.people.queries import get_person_for, own_household_members, persons_for
from fangkong.people.services import person_search
from fangkong.places.queries import communities_for, grids_for, households_for
from fangkong.testing import permissions, queries, services
from fangkong.testing.forms import (
    AntigenForm,
    ExemptionForm,
    ResultImportForm,
    RosterFromZoneForm,
    RoundCreateForm,
    SiteForm,
)
from fangkong.testing.models import ResultImport

# ---------------------------------------------------------------------------
# Rounds, sites and exemptions
# ---------------------------------------------------------------------------

ROUND_PAGE_SIZE = 50


def _round_form(user, data=None) -> RoundCreateForm:
    return RoundCreateForm(data, communities=communities_for(user), zones=queries.zones_for_rounds(user),
                           grids=grids_for(user).select_related("community").order_by("community__name", "name"))


@staff_required
def rounds(request):
    """The rounds in scope, and the form to start one (community staff, street admins)."""
    user = request.user
    may_manage = permissions.may_manage_rounds(user)
    form = _round_form(user, request.POST or None)
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied
        if form.is_valid():
            try:
                round = services.test_round_create(actor=user, **form.cleaned_data)
            except DomainError as err:
                add_domain_error(form, err)
            else:
                messages.success(request, _("已创建 %(r)s") % {"r": round})
                return redirect("testing:round_detail", pk=round.pk)
    page = Paginator(queries.rounds_for(user), ROUND_PAGE_SIZE).get_page(request.GET.get("page"))
    return TemplateResponse(request, "testing/round_list.html", {"form": form, "page": page, "may_manage": may_manage},
                            status=400 if form.errors else 200)


def _round_page(request, round, exemption_form=None, status=200):
    user = request.user
    context = {"round": round, "may_manage": permissions.may_manage_rounds(user),
               "exemptions": queries.exemptions_of(user, round),
               "expected_count": queries.expected_people(round).filter(
                   id__in=persons_for(user).values("id")).count(),
               "exemption_form": exemption_form or ExemptionForm(), "figures": queries.round_figures(round),
               "key_tag_labels": [Tag(tag).label for tag in round.key_tags if tag in Tag.values]}
    return TemplateResponse(request, "testing/round_detail.html", context, status=status)


@staff_required
def round_detail(request, pk):
    """The round's facts and exemptions; the figures and coverage links of the round sit in their own area."""
    return _round_page(request, queries.get_round_for(request.user, pk))


@require_POST
@staff_required
def round_close(request, pk):
    round = queries.get_round_for(request.user, pk)
    try:
        services.test_round_close(actor=request.user, round=round)
    except DomainError as err:
        messages.error(request, err.message)
    else:
        messages.success(request, _("%(r)s已结束") % {"r": round})
    return redirect("testing:round_detail", pk=round.pk)


@require_POST
@staff_required
def round_exemption_add(request, pk):
    user = request.user
    round = queries.get_round_for(user, pk)
    form = ExemptionForm(request.POST)
    if form.is_valid():
        try:
            found = person_search(actor=user, text=form.cleaned_data["who"])
            person = queries.find_round_person(round, found)
            services.round_exemption_add(actor=user, round=round, person=person, reason=form.cleaned_data["reason"],
                                         note=form.cleaned_data["note"])
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("%(name)s已登记免采") % {"name": person.name})
            return redirect("testing:round_detail", pk=round.pk)
    return _round_page(request, round, form, status=400)


@require_POST
@staff_required
def round_exemption_remove(request, pk, exemption_pk):
    round = queries.get_round_for(request.user, pk)
    exemption = queries.get_exemption_for(request.user, exemption_pk, round=round)
    try:
        services.round_exemption_remove(actor=request.user, exemption=exemption)
    except DomainError as err:
        messages.error(request, err.message)
    return redirect("testing:round_detail", pk=round.pk)


def _site_roster(site) -> list:
    """The households on a site's roster, with the building and unit their labels name."""
    return list(site.roster.select_related("unit__building"))


def _site_form(user, data=None, *, site=None, roster=()) -> SiteForm:
    community = site.community if site else None
    households = households_for(user).select_related("unit__building").order_by("building__number", "unit__number",
                                                                                 "room")
    if community is not None:
        households = households.filter(community=community)
    initial = {}
    if site is not None:
        initial = {"community": site.community, "name": site.name, "kind": site.kind, "address": site.address,
                   "opens_at": site.opens_at, "closes_at": site.closes_at, "team": list(site.team.all()),
                   "roster": list(roster), "active": site.active}
    form = SiteForm(data, initial=initial, communities=communities_for(user), households=households,
                    team=queries.team_candidates_for(user, community))
    if site is not None:
        form.fields["community"].disabled = True
    return form


@staff_required
def sites(request):
    """Sampling sites and door-to-door teams in scope, and the form to add one."""
    user = request.user
    may_manage = permissions.may_manage_rounds(user)
    form = _site_form(user, request.POST or None)
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "active"}
            try:
                site = services.sampling_site_create(actor=user, **data)
            except DomainError as err:
                add_domain_error(form, err)
            else:
                messages.success(request, _("已添加 %(s)s") % {"s": site})
                return redirect("testing:sites")
    return TemplateResponse(request, "testing/site_list.html",
                            {"form": form, "sites": queries.sites_for(user), "may_manage": may_manage},
                            status=400 if form.errors else 200)


@staff_required
def site_edit(request, pk):
    """One site's facts, team and roster; door-to-door teams take the households of a zone in one go."""
    user = request.user
    site = queries.get_site_for(user, pk)
    may_manage = permissions.may_manage_rounds(user)
    roster = _site_roster(site)
    form = _site_form(user, request.POST or None, site=site, roster=roster)
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "community"}
            try:
                services.sampling_site_update(actor=user, site=site, **data)
            except DomainError as err:
                add_domain_error(form, err)
            else:
                messages.success(request, _("已保存 %(s)s") % {"s": site})
                return redirect("testing:site_edit", pk=site.pk)
    zone_form = RosterFromZoneForm(zones=queries.zones_for_rounds(user, site.community))
    return TemplateResponse(request, "testing/site_edit.html",
                            {"site": site, "roster": roster, "form": form, "zone_form": zone_form,
                             "may_manage": may_manage},
                            status=400 if form.errors else 200)


@require_POST
@staff_required
def site_roster_from_zone(request, pk):
    user = request.user
    site = queries.get_site_for(user, pk)
    form = RosterFromZoneForm(request.POST, zones=queries.zones_for_rounds(user, site.community))
    if not form.is_valid():
        messages.error(request, _("请选择区域"))
        return redirect("testing:site_edit", pk=site.pk)
    try:
        added = services.site_roster_from_zone(actor=user, site=site, zone=form.cleaned_data["zone"])
    except DomainError as err:
        messages.error(request, err.message)
    else:
        messages.success(request, _("已加入 %(n)s 户") % {"n": added})
    return redirect("testing:site_edit", pk=site.pk)


def _with_codes(people, scale: int) -> list[tuple]:
    return [(person, mark_safe(personal_code_svg(person, scale=scale))) for person in people]


@login_required
def my_code(request):
    """A resident's personal codes: one for each member of their household, big enough to scan off a phone."""
    if not is_resident(request.user):
        return redirect("testing:rounds")
    return TemplateResponse(request, "testing/code_mine.html",
                            {"codes": _with_codes(own_household_members(request.user), scale=8)})


@staff_required
def household_card(request, pk):
    """The printable card of a household's personal codes, for people without a phone; printing is logged."""
    household, members = queries.household_card_for(request.user, pk)
    services.household_card_print(actor=request.user, household=household)
    return TemplateResponse(request, "testing/code_card.html",
                            {"household": household, "codes": _with_codes(members, scale=5)})


# ---------------------------------------------------------------------------
# Sampling
# ---------------------------------------------------------------------------

def _scanner_page(request, round, *, site=None, tube=None, error="", status=200):
    """The whole scanner page, or only its tube panel for the page's own script."""
    context = {"round": round, "site": site, "tube": tube, "error": error,
               "samples": list(queries.tube_samples(tube)) if tube is not None else []}
    if request.htmx:
        return TemplateResponse(request, "testing/scanner.html#tube", context, status=status)
    sites = queries.round_sites(round)
    context.update(sites=sites, open_tubes=queries.open_tubes_at(request.user, round, site) if site else [])
    return TemplateResponse(request, "testing/scanner.html", context, status=status)


def _scanner_site(round, value):
    return queries.get_round_site_for(round, id_param(value)) if value else None


def _round_tube(request, round, tube_pk):
    tube = queries.get_tube_for(request.user, tube_pk)
    if tube.round_id != round.pk:
        raise Http404
    return tube


@never_cache
@staff_required
def scanner(request, pk):
    round = queries.get_sampling_round_for(request.user, pk)
    site = _scanner_site(round, request.GET.get("site"))
    tube = _round_tube(request, round, id_param(request.GET.get("tube"))) if request.GET.get("tube") else None
    if site is None and tube is not None:
        site = tube.site
    return _scanner_page(request, round, site=site, tube=tube)


@require_POST
@staff_required
def scanner_tube_open(request, pk):
    round = queries.get_sampling_round_for(request.user, pk)
    site = _scanner_site(round, request.POST.get("site"))
    if site is None:
        return _scanner_page(request, round, error=_("请先选择采样点"))
    try:
        tube = services.tube_open(actor=request.user, round=round, site=site, barcode=request.POST.get("barcode", ""))
    except DomainError as err:
        return _scanner_page(request, round, site=site, error=err.message)
    if not request.htmx:
        return redirect(f"{reverse('testing:scanner', args=[round.pk])}?site={site.pk}&tube={tube.pk}")
    return _scanner_page(request, round, site=site, tube=tube)


def _scanned_person(request, round):
    if request.POST.get("person"):
        return queries.get_round_person(round, id_param(request.POST["person"]))
    return queries.person_for_scan(request.user, round, request.POST.get("text", ""))


@require_POST
@staff_required
def scanner_add(request, pk, tube_pk):
    round = queries.get_sampling_round_for(request.user, pk)
    tube = _round_tube(request, round, tube_pk)
    error = ""
    try:
        services.sample_add(actor=request.user, tube=tube, person=_scanned_person(request, round),
                            client_id=request.POST.get("client_id") or uuid.uuid4(),
                            door_to_door=tube.site.kind == tube.site.Kind.DOOR_TO_DOOR)
    except DomainError as err:
        error = err.message
    tube.refresh_from_db()
    return _scanner_page(request, round, site=tube.site, tube=tube, error=error)


def _tube_action(request, pk, tube_pk, action):
    round = queries.get_sampling_round_for(request.user, pk)
    tube = _round_tube(request, round, tube_pk)
    error = ""
    try:
        action(actor=request.user, tube=tube)
    except DomainError as err:
        error = err.message
    tube.refresh_from_db()
    if not request.htmx:
        return redirect(f"{reverse('testing:scanner', args=[round.pk])}?site={tube.site_id}&tube={tube.pk}")
    return _scanner_page(request, round, site=tube.site, tube=tube, error=error)


@require_POST
@staff_required
def scanner_undo(request, pk, tube_pk):
    return _tube_action(request, pk, tube_pk, services.sample_undo_last)


@require_POST
@staff_required
def scanner_close(request, pk, tube_pk):
    return _tube_action(request, pk, tube_pk, services.tube_close)


@staff_required
def scanner_roster(request, pk):
    """Households by room number, each member one tap away (a door-to-door team's roster first): only for
    whoever may sample at the site, as the names reach beyond a grid account's own grids."""
    round = queries.get_sampling_round_for(request.user, pk)
    site = _scanner_site(round, request.GET.get("site"))
    if not permissions.may_sample_at(request.user, site):
        raise PermissionDenied
    households = queries.roster_households(round, site, request.GET.get("room", ""))
    return TemplateResponse(request, "testing/scanner_roster.html", {"round": round, "households": households})


# ---------------------------------------------------------------------------
# Lab results and positive tubes
# ---------------------------------------------------------------------------


@never_cache
@allowed(permissions.may_import_results)
def results(request):
    """Upload a lab's result file, imported by the worker while its page shows the progress; the recent imports."""
    form = ResultImportForm(request.POST or None, request.FILES or None, communities=communities_for(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            result_import = services.lab_results_import_start(
                actor=request.user, community=form.cleaned_data["community"], uploaded_file=form.cleaned_data["file"])
        except DomainError as err:
            add_domain_error(form, err)
        else:
            return redirect("testing:result_import", pk=result_import.pk)
    imports = queries.result_imports_for(request.user)[:50]
    return TemplateResponse(request, "testing/result_list.html", {"form": form, "imports": imports},
                            status=400 if form.errors else 200)


@never_cache
@allowed(permissions.may_import_results)
def result_import(request, pk):
    """An import: its progress while the worker runs it (HTMX asks again every few seconds), the reason it
    failed, or its unknown barcodes and positive tubes with what they set off."""
    result_import = queries.get_result_import_for(request.user, pk)
    done = result_import.status == ResultImport.Status.DONE
    context = {"result_import": result_import, "poll_seconds": POLL_SECONDS,
               "tubes": queries.positive_tubes_of_import(result_import) if done else []}
    template = "testing/result_import.html#progress" if request.htmx else "testing/result_import.html"
    return TemplateResponse(request, template, context)


@staff_required
def resample_tasks(request):
    """单管复核: the open tasks, the actor's grids first, by grid, building and unit."""
    tasks = queries.resample_tasks_for(request.user)
    page = Paginator(tasks, 100).get_page(request.GET.get("page"))
    return TemplateResponse(request, "testing/resample_tasks.html", {"page": page})


# ---------------------------------------------------------------------------
# Coverage and figures
# ---------------------------------------------------------------------------

def _coverage_building(request, round):
    """The building drilled into (?building=<id>), or None; a building outside the round's community is 404."""
    value = request.GET.get("building")
    return queries.get_round_building_for(request.user, round, id_param(value)) if value else None


@staff_required
def coverage(request, pk):
    """Totals, grid → building → unit, and one building's untested households; HTMX re-asks every 10 s."""
    round = queries.get_round_for(request.user, pk)
    building = _coverage_building(request, round)
    context = {"round": round, "coverage": queries.round_coverage(request.user, round), "building": building,
               "households": queries.untested_households(request.user, round, building) if building else None}
    if request.htmx:
        return TemplateResponse(request, "testing/coverage.html#live", context)
    return TemplateResponse(request, "testing/coverage.html", context)


@staff_required
def coverage_print(request, pk, building_pk):
    """One building's untested people for door knocking: room, names, masked phone, a column to tick."""
    round = queries.get_round_for(request.user, pk)
    building = queries.get_round_building_for(request.user, round, building_pk)
    households = queries.untested_households(request.user, round, building)
    services.untested_list_print(actor=request.user, round=round, building=building)
    return TemplateResponse(request, "testing/coverage_print.html",
                            {"round": round, "building": building, "households": households,
                             "people": sum(len(people) for _household, people in households),
                             "printed_at": timezone.localtime()})


@staff_required
def figures(request, pk):
    round = queries.get_round_for(request.user, pk)
    return TemplateResponse(request, "testing/figures.html", {"round": round, "figures": queries.round_figures(round)})


def _antigen_saved(request, form) -> bool:
    data = form.cleaned_data
    person = get_person_for(request.user, data["person"])
    try:
        services.antigen_report(actor=request.user, person=person, result=data["result"], taken_at=data["taken_at"],
                                photo=data["photo"], client_id=data["client_id"])
    except DomainError as err:
        add_domain_error(form, err)
        return False
    return True


@never_cache
@login_required(login_url="accounts:resident_login")
def antigen_me(request):
    """A resident reports an antigen self-test for someone of their household, with a photo of the card if they like."""
    if is_staff_member(request.user):
        return redirect("testing:rounds")
    members = list(own_household_members(request.user))
    form = AntigenForm(request.POST or None, request.FILES or None, members=members)
    if request.method == "POST" and form.is_valid() and _antigen_saved(request, form):
        messages.success(request, _("已提交,谢谢配合"))
        return redirect("testing:antigen_me")
    reports = queries.household_antigen_reports(request.user)
    return TemplateResponse(request, "testing/antigen_me.html", {"form": form, "members": members, "reports": reports},
                            status=400 if request.method == "POST" else 200)
