"""The audit log, as each role may browse it."""

from django.core.paginator import Paginator
from django.template.response import TemplateResponse

from fangkong.core.access import allowed
from fangkong.core.forms import AuditFilterForm
from fangkong.core.queries import audit_events_for
from fangkong.core.roles import may_browse_audit

AUDIT_PAGE_SIZE = 50


@allowed(may_browse_audit)
def audit(request):
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    events = audit_events_for(request.user, action=filters.get("action", ""), actor_label=filters.get("actor", ""),
                              day=filters.get("day"))
    page = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    return TemplateResponse(request, "core/audit.html", {"form": form, "page": page})
