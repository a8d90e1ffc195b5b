from django.urls import path

from fangkong.places import views

app_name = "places"
urlpatterns = [
    path("", views.tree, name="tree"),
    path("compounds/new/", views.compound_create, name="compound_create"),
    path("compounds/<int:pk>/edit/", views.compound_edit, name="compound_edit"),
    path("buildings/new/", views.building_create, name="building_create"),
    path("buildings/<int:pk>/", views.building_detail, name="building"),
    path("buildings/<int:pk>/edit/", views.building_edit, name="building_edit"),
    path("buildings/<int:pk>/households/new/", views.household_create, name="household_create"),
    path("buildings/<int:pk>/generate/", views.building_generate, name="building_generate"),
    path("households/<int:pk>/edit/", views.household_edit, name="household_edit"),
    path("grids/", views.grids, name="grids"),
    path("grids/new/", views.grid_create, name="grid_create"),
    path("grids/<int:pk>/edit/", views.grid_edit, name="grid_edit"),
    path("venues/", views.venues, name="venues"),
    path("venues/new/", views.venue_create, name="venue_create"),
    path("venues/<int:pk>/edit/", views.venue_edit, name="venue_edit"),
]
