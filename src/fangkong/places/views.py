"""Console pages of the place tree: a community's tree, buildings and their rooms, venues, grids."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from fangkong.core.access import allowed, staff_required
from fangkong.core.errors import DomainError
from fangkong.core.forms import add_domain_error, id_param
from fangkong.places import queries, services
from fangkong.places.forms import (
    BuildingEditForm,
    BuildingForm,
    CompoundForm,
    GenerateForm,
    GridForm,
    HouseholdEditForm,
    HouseholdForm,
    VenueFilterForm,
    VenueForm,
)
from fangkong.places.permissions import may_edit_places

PAGE_SIZE = 50

edit_required = allowed(may_edit_places)


def _tree_url(community) -> str:
    return f"{reverse('places:tree')}?community={community.pk}"


def _building_url(building) -> str:
    return reverse("places:building", args=[building.pk])


def _chosen_community(request):
    """The community named by ?community=, or the only one in scope; None when the actor must pick."""
    if request.GET.get("community"):
        return queries.get_community_for(request.user, id_param(request.GET["community"]))
    communities = list(queries.communities_for(request.user)[:2])
    return communities[0] if len(communities) == 1 else None


def _form_page(request, form, title, back_url):
    return TemplateResponse(request, "places/form.html", {"form": form, "title": title, "back_url": back_url})


@staff_required
def tree(request):
    community = _chosen_community(request)
    if community is None:
        return TemplateResponse(request, "places/pick_community.html",
                                {"communities": queries.communities_for(request.user)})
    return TemplateResponse(request, "places/tree.html", {
        "community": community,
        "compounds": queries.community_tree(request.user, community),
        "may_edit": may_edit_places(request.user),
    })


@staff_required
def building_detail(request, pk):
    building = queries.get_building_for(request.user, pk)
    return TemplateResponse(request, "places/building_detail.html", {
        "building": building, "units": queries.building_rooms(request.user, building),
        "may_edit": may_edit_places(request.user),
        "generate_form": GenerateForm(), "household_form": HouseholdForm(),
    })


@edit_required
def compound_create(request):
    community = queries.get_community_for(request.user, id_param(request.GET.get("community")))
    form = CompoundForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.compound_create(actor=request.user, community=community, **form.cleaned_data)
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("小区已新建"))
            return redirect(_tree_url(community))
    return _form_page(request, form, _("新建小区 · %(c)s") % {"c": community}, _tree_url(community))


@edit_required
def compound_edit(request, pk):
    compound = queries.get_compound_for(request.user, pk)
    form = CompoundForm(request.POST or None, initial={"name": compound.name, "address": compound.address})
    if request.method == "POST" and form.is_valid():
        try:
            services.compound_update(actor=request.user, compound=compound, **form.cleaned_data)
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("小区已保存"))
            return redirect(_tree_url(compound.community))
    return _form_page(request, form, _("修改小区 · %(c)s") % {"c": compound}, _tree_url(compound.community))


@edit_required
def building_create(request):
    community = queries.get_community_for(request.user, id_param(request.GET.get("community")))
    form = BuildingForm(request.POST or None, actor=request.user, community=community,
                        initial={"compound": request.GET.get("compound")})
    if request.method == "POST" and form.is_valid():
        try:
            building = services.building_create(actor=request.user, **form.cleaned_data)
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("楼栋已新建"))
            return redirect("places:building", pk=building.pk)
    return _form_page(request, form, _("新建楼栋 · %(c)s") % {"c": community}, _tree_url(community))


@edit_required
def building_edit(request, pk):
    building = queries.get_building_for(request.user, pk)
    form = BuildingEditForm(request.POST or None, actor=request.user, community=building.community,
                            initial={"number": building.number, "grid": building.grid_id})
    if request.method == "POST" and form.is_valid():
        try:
            services.building_update(actor=request.user, building=building, **form.cleaned_data)
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("楼栋已保存"))
            return redirect("places:building", pk=building.pk)
    return _form_page(request, form, _("修改楼栋 · %(b)s") % {"b": building}, _building_url(building))


@edit_required
def household_create(request, pk):
    building = queries.get_building_for(request.user, pk)
    form = HouseholdForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            household = services.household_create(actor=request.user, building=building, **form.cleaned_data)
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("已新建 %(h)s") % {"h": household})
            return redirect("places:building", pk=building.pk)
    return _form_page(request, form, _("新建户 · %(b)s") % {"b": building}, _building_url(building))


@edit_required
def household_edit(request, pk):
    household = queries.get_household_for(request.user, pk)
    form = HouseholdEditForm(request.POST or None, initial={"room": household.room, "notes": household.notes})
    if request.method == "POST" and form.is_valid():
        try:
            services.household_update(actor=request.user, household=household, **form.cleaned_data)
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("已保存 %(h)s") % {"h": household})
            return redirect("places:building", pk=household.building_id)
    return _form_page(request, form, _("修改户 · %(h)s") % {"h": household}, _building_url(household.building))


@edit_required
def building_generate(request, pk):
    """层数 × 单元数 × 每层户数: create a building's rooms at once."""
    building = queries.get_building_for(request.user, pk)
    form = GenerateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.building_generate_households(actor=request.user, building=building, **form.cleaned_data)
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("已生成 %(n)d 户") % {"n": created})
            return redirect("places:building", pk=building.pk)
    return _form_page(request, form, _("批量生成户 · %(b)s") % {"b": building}, _building_url(building))


@staff_required
def grids(request):
    page = Paginator(queries.grids_with_building_counts(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return TemplateResponse(request, "places/grids.html", {"page": page, "may_edit": may_edit_places(request.user)})


@edit_required
def grid_create(request):
    form = GridForm(request.POST or None, actor=request.user, initial={"community": request.GET.get("community")})
    if request.method == "POST" and form.is_valid():
        try:
            services.grid_create(actor=request.user, **form.cleaned_data)
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("网格已新建"))
            return redirect("places:grids")
    return _form_page(request, form, _("新建网格"), reverse("places:grids"))


@edit_required
def grid_edit(request, pk):
    grid = queries.get_grid_for(request.user, pk)
    form = GridForm(request.POST or None, actor=request.user, grid=grid, initial={"name": grid.name})
    if request.method == "POST" and form.is_valid():
        try:
            services.grid_update(actor=request.user, grid=grid, **form.cleaned_data)
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("网格已保存"))
            return redirect("places:grids")
    return _form_page(request, form, _("修改网格 · %(g)s") % {"g": grid}, reverse("places:grids"))


@staff_required
def venues(request):
    form = VenueFilterForm(request.GET or None)
    filters = {field: form.cleaned_data[field] for field in ("kind", "status")} if form.is_valid() else {}
    page = Paginator(queries.venues_for(request.user, **filters), PAGE_SIZE).get_page(request.GET.get("page"))
    return TemplateResponse(request, "places/venues.html",
                            {"form": form, "page": page, "may_edit": may_edit_places(request.user)})


@edit_required
def venue_create(request):
    form = VenueForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.venue_create(actor=request.user, community=form.cleaned_data["community"], **form.values())
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("场所已新建"))
            return redirect("places:venues")
    return _form_page(request, form, _("新建场所"), reverse("places:venues"))


@edit_required
def venue_edit(request, pk):
    venue = queries.get_venue_for(request.user, pk)
    initial = {f: getattr(venue, f) for f in services.VENUE_FIELDS}
    form = VenueForm(request.POST or None, actor=request.user, venue=venue, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.venue_update(actor=request.user, venue=venue, **form.values())
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("场所已保存"))
            return redirect("places:venues")
    return _form_page(request, form, _("修改场所 · %(v)s") % {"v": venue}, reverse("places:venues"))
