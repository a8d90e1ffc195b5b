from django.urls import path

from fangkong.people import views

app_name = "people"
urlpatterns = [
    path("", views.person_list, name="list"),
    path("new/", views.person_create, name="create"),
    path("<int:pk>/", views.person_detail, name="detail"),
    path("<int:pk>/reveal/", views.person_reveal, name="reveal"),
    path("<int:pk>/edit/", views.person_edit, name="edit"),
    path("<int:pk>/delete/", views.person_delete, name="delete"),
    path("duplicates/", views.duplicates, name="duplicates"),
    path("duplicates/merge/", views.merge, name="merge"),
    path("ledger/", views.ledger_import, name="import"),
    path("ledger/jobs/<int:pk>/", views.import_job, name="import_job"),
    path("ledger/jobs/<int:pk>/commit/", views.import_job_commit, name="import_job_commit"),
    path("ledger/export/", views.ledger_export, name="export"),
]
