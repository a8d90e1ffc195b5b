"""The console's home page: the scope's counts, with what each app asks its staff to do first."""

from django.template.response import TemplateResponse

from fangkong.core.access import staff_required
from fangkong.people.queries import scope_counts


@staff_required
def home(request):
    return TemplateResponse(request, "web/home.html", {"counts": scope_counts(request.user)})
