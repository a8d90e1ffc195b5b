"""Console request handling shared by every page.

Binds the signed-in user's channel and client address before any service runs, so the
AuditEvents it writes say "web" and where the request came from; and turns a DomainError
that escaped a view into a Chinese error page with its status instead of a 500.
"""

from django.template.response import TemplateResponse

from fangkong.core.actors import bind_context, client_address_of
from fangkong.core.errors import DomainError


class ConsoleMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            bind_context(user, via="web", client_address=client_address_of(request))
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DomainError):
            return None
        response = TemplateResponse(request, "error.html", {"message": exception.message}, status=exception.status)
        return response.render()
