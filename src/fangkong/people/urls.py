from django.urls import path

from fangkong.core.converters import register_id_converter
from fangkong.people import views

register_id_converter()

app_name = "people"
urlpatterns = [
    path("", views.person_list, name="list"),
    path("new/", views.person_create, name="create"),
    path("<id:pk>/", views.person_detail, name="detail"),
    path("<id:pk>/reveal/", views.person_reveal, name="reveal"),
    path("<id:pk>/edit/", views.person_edit, name="edit"),
    path("<id:pk>/delete/", views.person_delete, name="delete"),
    path("duplicates/", views.duplicates, name="duplicates"),
    path("duplicates/merge/", views.merge, name="merge"),
    path("ledger/", views.ledger_import, name="import"),
    path("ledger/jobs/<id:pk>/", views.import_job, name="import_job"),
    path("ledger/jobs/<id:pk>/commit/", views.import_job_commit, name="import_job_commit"),
    path("ledger/export/", views.ledger_export, name="export"),
]
