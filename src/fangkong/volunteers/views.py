"""Post pages: open posts with their place, kind, hours and headcount; closed ones below."""

from django.contrib import messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from fangkong.core.access import allowed, staff_required
from fangkong.core.errors import DomainError
from fangkong.core.forms import add_domain_error
from fangkong.places.permissions import may_edit_places
from fangkong.volunteers import queries, services
from fangkong.volunteers.forms import PostForm
from fangkong.volunteers.models import Post

LIST_LIMIT = 500


def _page(request, form=None, status=200):
    may_manage = may_edit_places(request.user)
    if may_manage and form is None:
        form = PostForm(actor=request.user)
    closed = queries.posts_for(request.user, status=Post.Status.CLOSED).order_by("-closed_at", "-id")
    context = {"open_posts": list(queries.posts_for(request.user, status=Post.Status.OPEN)[:LIST_LIMIT]),
               "closed_posts": list(closed[:LIST_LIMIT]),
               "form": form, "may_manage": may_manage}
    return TemplateResponse(request, "volunteers/posts.html", context, status=status)


@never_cache
@staff_required
def posts(request):
    return _page(request)


@never_cache
@require_POST
@allowed(may_edit_places)
def post_create(request):
    form = PostForm(request.POST, actor=request.user)
    if form.is_valid():
        try:
            post = services.post_create(actor=request.user, **form.cleaned_data)
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("已设岗:%(p)s") % {"p": post})
            return redirect("volunteers:posts")
    return _page(request, form=form, status=400)


@never_cache
@require_POST
@allowed(may_edit_places)
def post_close(request, pk):
    post = queries.get_post_for(request.user, pk)
    try:
        services.post_close(actor=request.user, post=post)
    except DomainError as err:
        messages.error(request, err.message)
    else:
        messages.success(request, _("已撤岗:%(p)s") % {"p": post})
    return redirect("volunteers:posts")
