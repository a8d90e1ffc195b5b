from django.urls import path

from fangkong.access import views
from fangkong.core.converters import register_id_converter

register_id_converter()

app_name = "access"
urlpatterns = [
    path("checkpoints/", views.checkpoints, name="checkpoints"),
    path("checkpoints/<id:pk>/", views.checkpoint, name="checkpoint"),
    path("checkpoints/<id:pk>/poster/", views.poster, name="poster"),
    path("checkpoints/<id:pk>/poster.png", views.poster_png, name="poster_png"),
    path("checkpoints/<id:pk>/scan/", views.scanner, name="scanner"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("passages/", views.passages, name="passages"),
    path("passes/", views.passes, name="passes"),
    path("passes/<id:pk>/", views.pass_detail, name="pass"),
    path("passes/<id:pk>/card/", views.pass_card, name="pass_card"),
    path("me/", views.own_passes, name="own_passes"),
    path("g/<str:token>/", views.self_scan, name="self_scan"),
    path("tracing/", views.tracing, name="tracing"),
]
