from django.urls import path

from fangkong.core import views

app_name = "core"
urlpatterns = [
    path("audit/", views.audit, name="audit"),
]
