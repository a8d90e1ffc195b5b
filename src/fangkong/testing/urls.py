from django.urls import path

from fangkong.core.converters import register_id_converter
from fangkong.testing import views

register_id_converter()

app_name = "testing"
urlpatterns = [
    # Rounds, sites and exemptions
    path("rounds/", views.rounds, name="rounds"),
    path("rounds/<id:pk>/", views.round_detail, name="round_detail"),
    path("rounds/<id:pk>/close/", views.round_close, name="round_close"),
    path("rounds/<id:pk>/exemptions/", views.round_exemption_add, name="round_exemption_add"),
    path("rounds/<id:pk>/exemptions/<id:exemption_pk>/remove/", views.round_exemption_remove,
         name="round_exemption_remove"),
    path("sites/", views.sites, name="sites"),
    path("sites/<id:pk>/", views.site_edit, name="site_edit"),
    path("sites/<id:pk>/roster-from-zone/", views.site_roster_from_zone, name="site_roster_from_zone"),
    path("me/code/", views.my_code, name="my_code"),
    path("households/<id:pk>/card/", views.household_card, name="household_card"),
    # Sampling
    path("rounds/<id:pk>/scan/", views.scanner, name="scanner"),
    path("rounds/<id:pk>/scan/tubes/", views.scanner_tube_open, name="scanner_tube_open"),
    path("rounds/<id:pk>/scan/tubes/<id:tube_pk>/add/", views.scanner_add, name="scanner_add"),
    path("rounds/<id:pk>/scan/tubes/<id:tube_pk>/undo/", views.scanner_undo, name="scanner_undo"),
    path("rounds/<id:pk>/scan/tubes/<id:tube_pk>/close/", views.scanner_close, name="scanner_close"),
    path("rounds/<id:pk>/scan/roster/", views.scanner_roster, name="scanner_roster"),
    # Lab results and positive tubes
    path("results/", views.results, name="results"),
    path("results/<id:pk>/", views.result_import, name="result_import"),
    path("resample/", views.resample_tasks, name="resample_tasks"),
    # Coverage and figures
    path("rounds/<id:pk>/coverage/", views.coverage, name="coverage"),
    path("rounds/<id:pk>/coverage/buildings/<id:building_pk>/print/", views.coverage_print, name="coverage_print"),
    path("rounds/<id:pk>/figures/", views.figures, name="figures"),
    path("me/antigen/", views.antigen_me, name="antigen_me"),
]
