from django.urls import path

from fangkong.core.converters import register_id_converter
from fangkong.health import views

register_id_converter()

app_name = "health"
urlpatterns = [
    path("observations/", views.observation_list, name="observations"),
    path("observations/new/", views.observation_create, name="observation_create"),
    path("observations/<id:pk>/", views.observation_detail, name="observation_detail"),
    path("observations/<id:pk>/extend/", views.observation_extend, name="observation_extend"),
    path("observations/<id:pk>/release/", views.observation_release, name="observation_release"),
    path("observations/<id:pk>/end-early/", views.observation_end_early, name="observation_end_early"),
    path("observations/<id:pk>/transfer/", views.observation_transfer, name="observation_transfer"),
    path("observations/<id:pk>/checks/", views.observation_check, name="observation_check"),
    path("observations/<id:pk>/quick-check/", views.check_quick, name="check_quick"),
    path("checks/pending/", views.checks_pending, name="checks_pending"),
    path("alerts/", views.alerts, name="alerts"),
    path("alerts/<id:pk>/handle/", views.alert_handle, name="alert_handle"),
    path("policies/", views.policies, name="policies"),
    path("me/", views.me, name="me"),
    # Cases and contacts
    path("cases/", views.case_list, name="cases"),
    path("cases/new/", views.case_create, name="case_create"),
    path("cases/<id:pk>/", views.case_detail, name="case_detail"),
    path("cases/<id:pk>/status/", views.case_status, name="case_status"),
    path("cases/<id:pk>/severity/", views.case_severity, name="case_severity"),
    path("cases/<id:pk>/contacts/", views.case_contact_add, name="case_contact_add"),
    path("contacts/<id:pk>/remove/", views.contact_remove, name="contact_remove"),
    path("contact-policies/", views.contact_policies, name="contact_policies"),
    # Transfers
    path("transfers/", views.transfers, name="transfers"),
    path("transfers/new/", views.transfer_create, name="transfer_create"),
    path("transfers/<id:pk>/", views.transfer_detail, name="transfer_detail"),
    path("transfers/<id:pk>/edit/", views.transfer_edit, name="transfer_edit"),
    path("transfers/<id:pk>/pick-up/", views.transfer_pick_up, name="transfer_pick_up"),
    path("transfers/<id:pk>/arrive/", views.transfer_arrive, name="transfer_arrive"),
    path("transfers/<id:pk>/cancel/", views.transfer_cancel, name="transfer_cancel"),
    path("destinations/", views.destinations, name="destinations"),
    path("destinations/<id:pk>/", views.destination_detail, name="destination_detail"),
]
