"""One shape for the forms POSTed from a detail page (extend an observation, accept a zone, mark a transfer
picked up): a valid form goes to the service and back to a page; an invalid one, or a refusal, shows the
detail page again with the errors and status 400; a role that may not do it gets 403."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from fangkong.core.access import staff_required
from fangkong.core.errors import DomainError, NotAllowed
from fangkong.core.forms import add_domain_error


def page_action(*, get, page, make_form, form_name: str, call, done: str, target):
    """A view for one POSTed form on a detail page.

    get(actor, pk) finds the row in scope (404 outside); make_form(request, row) builds the form;
    call(actor, row, form) calls the service; page(request, row, forms=..., status=...) renders the
    detail page; target(row, result) names where to go after success.
    """

    @never_cache
    @require_POST
    @staff_required
    def view(request, pk):
        row = get(request.user, pk)
        form = make_form(request, row)
        if form.is_valid():
            try:
                result = call(request.user, row, form)
            except NotAllowed:
                raise PermissionDenied from None
            except DomainError as err:
                add_domain_error(form, err)
            else:
                messages.success(request, done)
                return redirect(target(row, result))
        return page(request, get(request.user, pk), forms={form_name: form}, status=400)

    return view
