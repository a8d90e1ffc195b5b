"""The API at /api/v1/: one NinjaAPI, each app adding its router.

Staff sign in with the console's session cookie or a bearer token; every error has one
shape (see core.api; who is calling: accounts.auth). The docs page uses Ninja's bundled
Swagger UI files, served by the app.
"""

from django.http import Http404
from django.urls import include, path
from ninja import NinjaAPI, Router, Swagger

from fangkong.access.api import router as access_router
from fangkong.accounts.api import router as accounts_router
from fangkong.accounts.auth import staff_auth
from fangkong.core.api import install_error_handlers
from fangkong.health.api import router as health_router
from fangkong.people.api import router as people_router
from fangkong.places.api import router as places_router
from fangkong.screening.api import router as screening_router
from fangkong.testing.api import router as testing_router
from fangkong.volunteers.api import router as volunteers_router
from fangkong.zones.api import router as zones_router

api = NinjaAPI(
    title="fangkong",
    version="1",
    description="防控平台接口:地点、人员、台账导入导出。会话或 Bearer 令牌认证;超出管辖范围的对象一律返回 404。",
    urls_namespace="api",
    auth=staff_auth(),
    docs=Swagger(settings={"validatorUrl": None}),
)
install_error_handlers(api)
api.add_router("", accounts_router, tags=["账号"])
api.add_router("", places_router, tags=["地点"])
api.add_router("", people_router, tags=["人员"])
api.add_router("", screening_router, tags=["排查与跟踪"])
api.add_router("", health_router, tags=["健康监测"])
api.add_router("", zones_router, tags=["封控管控"])
api.add_router("", volunteers_router, tags=["岗位"])
api.add_router("", testing_router, tags=["核酸筛查"])
api.add_router("", access_router, tags=["卡口与出入证"])

unknown_paths = Router()


@unknown_paths.api_operation(["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}", auth=None,
                             include_in_schema=False)
def unknown_path(request, rest: str):
    """Any other path under /api/v1/ answers 404 in the error shape, not the console's HTML page."""
    raise Http404


api.add_router("", unknown_paths)


def api_urls():
    """The API's URL patterns: the one-segment paths first, then the others grouped by their first segment.

    Ninja lists every path at one level and Django tries them in order: POST /samples, which a busy
    sampling site sends every second, was the 130th of 142. A one-segment path cannot match a
    longer one, so it may go first; a path starting with a parameter (the catch-all above) stays last.
    """
    patterns, app_name, namespace = api.urls
    single, groups, last = [], {}, []
    for pattern in patterns:
        head, slash, rest = str(pattern.pattern).partition("/")
        if "<" in head:
            last.append(pattern)
        elif not slash:
            single.append(pattern)
        else:
            groups.setdefault(head, []).append(path(rest, pattern.callback, pattern.default_args, pattern.name))
    grouped = [path(f"{head}/", include(members)) for head, members in groups.items()]
    return single + grouped + last, app_name, namespace
