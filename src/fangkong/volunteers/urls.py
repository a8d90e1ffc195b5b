from django.urls import path

from fangkong.core.converters import register_id_converter
from fangkong.volunteers import views

register_id_converter()

app_name = "volunteers"
urlpatterns = [
]
