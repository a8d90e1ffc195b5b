"""Console pages of the people registry: list and search, detail with the logged reveal,
create/edit/delete, duplicate suspects and merge, ledger import and export."""

from urllib.parse import quote

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from fangkong.core.access import allowed, staff_required
from fangkong.core.errors import DomainError, RateLimited
from fangkong.core.forms import add_domain_error
from fangkong.people import queries, services
from fangkong.people.forms import LedgerExportForm, LedgerImportForm, MergeForm, PersonForm, PersonSearchForm
from fangkong.people.permissions import may_edit_registry, may_reveal_full_values
from fangkong.places.queries import get_household_for

PAGE_SIZE = 50
JOB_POLL_SECONDS = 2  # how often a running import's page asks for its progress

editor_required = allowed(may_edit_registry)


def _search(request, form):
    """The page of persons the search form asks for, or (None, message) when the search was refused."""
    if not form.is_valid():
        return Paginator(queries.persons_for(request.user).none(), PAGE_SIZE).get_page(1), ""
    data = form.cleaned_data
    try:
        persons = services.person_search(actor=request.user, text=data["q"], tag=data["tag"],
                                         residency=data["residency"],
                                         grid_id=data["grid"].pk if data["grid"] else None,
                                         household_id=data["household"])
    except RateLimited as err:
        return None, err.message
    return Paginator(persons, PAGE_SIZE).get_page(request.GET.get("page")), ""


@staff_required
def person_list(request):
    form = PersonSearchForm(request.GET, actor=request.user)
    page, refusal = _search(request, form)
    template = "people/list.html#results" if request.htmx else "people/list.html"
    return TemplateResponse(request, template, {"form": form, "page": page, "refusal": refusal,
                                                "may_edit": may_edit_registry(request.user)})


def _detail(request, person, *, revealed=False, status=200):
    context = {"person": person, "revealed": revealed, "may_reveal": may_reveal_full_values(request.user),
               "may_edit": may_edit_registry(request.user)}
    template = "people/detail.html#identity" if request.htmx and revealed else "people/detail.html"
    return TemplateResponse(request, template, context, status=status)


@never_cache
@staff_required
def person_detail(request, pk):
    return _detail(request, queries.get_person_for(request.user, pk))


@never_cache
@require_POST
@staff_required
def person_reveal(request, pk):
    """Show the full ID number and phone; the service writes the AuditEvent or refuses the role."""
    person = queries.get_person_for(request.user, pk)
    services.person_reveal(actor=request.user, person=person)
    return _detail(request, person, revealed=True)


def _person_initial(person) -> dict:
    initial = {f: getattr(person, f) for f in ("name", "id_type", "id_number", "sex", "birth_date", "phone",
                                               "relationship", "residency", "notes")}
    return {**initial, "community": person.community_id, **PersonForm.address_initial(person.household),
            "tags": person.tag_codes()}


def _household_initial(request) -> dict:
    """"登记人员" for a room: ?household= fills in its community and address when it is in scope."""
    if "household" not in request.GET:
        return {}
    try:
        return PersonForm.address_initial(get_household_for(request.user, request.GET["household"]))
    except Http404:
        return {}


def _person_form_page(request, form, title, person=None):
    return TemplateResponse(request, "people/form.html", {"form": form, "title": title, "person": person})


@editor_required
def person_create(request):
    form = PersonForm(request.POST or None, actor=request.user, initial=_household_initial(request))
    if request.method == "POST" and form.is_valid():
        try:
            person = services.person_create(actor=request.user, community=form.cleaned_data["community"],
                                            household=form.cleaned_data["household"], **form.service_values())
        except DomainError as err:
            form.add_domain_error(err)
        else:
            messages.success(request, _("已登记 %(p)s") % {"p": person})
            return redirect("people:detail", pk=person.pk)
    return _person_form_page(request, form, _("登记人员"))


@never_cache
@editor_required
def person_edit(request, pk):
    """The form shows the full ID number and phone, so opening it is a reveal: checked and audited."""
    person = queries.get_person_for(request.user, pk)
    if request.method != "POST":
        services.person_reveal(actor=request.user, person=person)
    form = PersonForm(request.POST or None, actor=request.user, person=person, initial=_person_initial(person))
    if request.method == "POST" and form.is_valid():
        try:
            services.person_update(actor=request.user, person=person, household=form.cleaned_data["household"],
                                   **form.service_values())
        except DomainError as err:
            form.add_domain_error(err)
        else:
            messages.success(request, _("已保存"))
            return redirect("people:detail", pk=person.pk)
    return _person_form_page(request, form, _("修改 %(p)s") % {"p": person}, person)


@editor_required
def person_delete(request, pk):
    person = queries.get_person_for(request.user, pk)
    if request.method == "POST":
        services.person_delete(actor=request.user, person=person)
        messages.success(request, _("已删除 %(p)s") % {"p": person})
        return redirect("people:list")
    return TemplateResponse(request, "people/delete.html", {"person": person})


@staff_required
def duplicates(request):
    return TemplateResponse(request, "people/duplicates.html", {"groups": queries.duplicate_suspects(request.user),
                                                                "may_edit": may_edit_registry(request.user)})


@require_POST
@editor_required
def merge(request):
    """First POST shows what will happen; the confirmed POST merges every duplicate into the one kept."""
    form = MergeForm(request.POST)
    if not form.is_valid():
        return redirect("people:duplicates")
    keep = queries.get_person_for(request.user, form.cleaned_data["keep"])
    others = [queries.get_person_for(request.user, pk) for pk in form.duplicate_ids() if pk != keep.pk]
    if not form.cleaned_data["confirm"]:
        return TemplateResponse(request, "people/merge_confirm.html", {"keep": keep, "others": others,
                                                                       "duplicates": form.cleaned_data["duplicates"]})
    for duplicate in others:
        keep = services.person_merge(actor=request.user, keep=keep, duplicate=duplicate)
    messages.success(request, _("已合并到 %(p)s") % {"p": keep})
    return redirect("people:detail", pk=keep.pk)


@editor_required
def ledger_import(request):
    """Upload a ledger: "预览" runs a dry run, "确认导入" commits; both run as a job the page polls."""
    form = LedgerImportForm(request.POST or None, request.FILES or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = services.ledger_import_job_start(actor=request.user, community=form.cleaned_data["community"],
                                                   file_name=upload.name, data=upload.read(),
                                                   dry_run="commit" not in request.POST)
        except DomainError as err:
            add_domain_error(form, err)
        else:
            return redirect("people:import_job", pk=job.pk)
    context = {"form": form, "export_form": LedgerExportForm(actor=request.user)}
    return TemplateResponse(request, "people/import.html", context)


@editor_required
def import_job(request, pk):
    job = queries.get_import_job_for(request.user, pk)
    template = "people/import_job.html#progress" if request.htmx else "people/import_job.html"
    context = {"job": job, "report": job.report or {}, "poll_seconds": JOB_POLL_SECONDS}
    return TemplateResponse(request, template, context)


@require_POST
@editor_required
def import_job_commit(request, pk):
    """"确认导入" on a clean preview: the same file, without choosing it again."""
    preview = queries.get_import_job_for(request.user, pk)
    try:
        job = services.ledger_import_job_commit(actor=request.user, preview=preview)
    except DomainError as err:
        messages.error(request, err.message)
        return redirect("people:import_job", pk=preview.pk)
    return redirect("people:import_job", pk=job.pk)


@require_POST
@editor_required
def ledger_export(request):
    form = LedgerExportForm(request.POST, actor=request.user)
    if not form.is_valid():
        messages.error(request, _("请选择要导出的社区"))
        return redirect("people:import")
    data, filename = services.ledger_export(actor=request.user, community=form.cleaned_data["community"],
                                            file_format=form.cleaned_data["file_format"])
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Content-Disposition"] = _attachment(filename)
    return response


def _attachment(filename: str) -> str:
    return f"attachment; filename=\"ledger.{filename.rsplit('.', 1)[-1]}\"; filename*=UTF-8''{quote(filename)}"
