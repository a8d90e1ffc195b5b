from django.urls import include, path
from django.views.i18n import set_language

from fangkong.api import api_urls

urlpatterns = [
    path("api/v1/", api_urls()),
    path("i18n/setlang/", set_language, name="set_language"),
    path("accounts/", include("fangkong.accounts.urls")),
    path("places/", include("fangkong.places.urls")),
    path("people/", include("fangkong.people.urls")),
    path("screening/", include("fangkong.screening.urls")),
    path("health/", include("fangkong.health.urls")),
    path("zones/", include("fangkong.zones.urls")),
    path("volunteers/", include("fangkong.volunteers.urls")),
    path("testing/", include("fangkong.testing.urls")),
    path("access/", include("fangkong.access.urls")),
    path("", include("fangkong.core.urls")),
    path("", include("fangkong.web.urls")),
]
