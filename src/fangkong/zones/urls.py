from django.urls import path

from fangkong.core.converters import register_id_converter
from fangkong.zones import views

register_id_converter()

app_name = "zones"
urlpatterns = [
    # Zones and their unlock dates
    path("", views.zone_list, name="list"),
    path("new/", views.zone_draw, name="draw"),
    path("policies/", views.zone_policies, name="policies"),
    path("<id:pk>/", views.zone_detail, name="detail"),
    path("<id:pk>/accept/", views.zone_accept, name="accept"),
    path("<id:pk>/dismiss/", views.zone_dismiss, name="dismiss"),
    path("<id:pk>/change/", views.zone_change, name="change"),
    path("<id:pk>/lift/", views.zone_lift, name="lift"),
    path("<id:pk>/rounds/", views.zone_round, name="round"),
    # Care inside zones
    path("<id:pk>/care/", views.care, name="care"),
    path("<id:pk>/care/exceptions/", views.care_exception, name="care_exception"),
    path("care/today/", views.care_today, name="care_today"),
    path("care/tasks/<id:pk>/check/", views.care_check, name="care_check"),
    path("care/tasks/<id:pk>/assign/", views.care_assign, name="care_assign"),
]
