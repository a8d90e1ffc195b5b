from django.urls import path

from fangkong.core.converters import register_id_converter
from fangkong.health import views

register_id_converter()

app_name = "health"
urlpatterns = [
]
