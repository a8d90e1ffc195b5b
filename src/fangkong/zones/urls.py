from django.urls import path

from fangkong.core.converters import register_id_converter
from fangkong.zones import views

register_id_converter()

app_name = "zones"
urlpatterns = [
    # Zones and their unlock dates
    # Care inside zones
]
