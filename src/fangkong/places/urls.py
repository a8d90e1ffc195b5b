from django.urls import path

from fangkong.core.converters import register_id_converter
from fangkong.places import views

register_id_converter()

app_name = "places"
urlpatterns = [
    path("", views.tree, name="tree"),
    path("compounds/new/", views.compound_create, name="compound_create"),
    path("compounds/<id:pk>/edit/", views.compound_edit, name="compound_edit"),
    path("buildings/new/", views.building_create, name="building_create"),
    path("buildings/<id:pk>/", views.building_detail, name="building"),
    path("buildings/<id:pk>/edit/", views.building_edit, name="building_edit"),
    path("buildings/<id:pk>/households/new/", views.household_create, name="household_create"),
    path("buildings/<id:pk>/generate/", views.building_generate, name="building_generate"),
    path("households/<id:pk>/edit/", views.household_edit, name="household_edit"),
    path("grids/", views.grids, name="grids"),
    path("grids/new/", views.grid_create, name="grid_create"),
    path("grids/<id:pk>/edit/", views.grid_edit, name="grid_edit"),
    path("venues/", views.venues, name="venues"),
    path("venues/new/", views.venue_create, name="venue_create"),
    path("venues/<id:pk>/edit/", views.venue_edit, name="venue_edit"),
]
