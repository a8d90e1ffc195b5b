from django.urls import path

from fangkong.core.converters import register_id_converter
from fangkong.screening import views

register_id_converter()

app_name = "screening"
urlpatterns = [
    # Follow-ups and the four colours
    # Risk areas and arrivals
    # Verification lists
    # Screening rounds
]
