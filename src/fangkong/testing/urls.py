from django.urls import path

from fangkong.core.converters import register_id_converter
from fangkong.testing import views

register_id_converter()

app_name = "testing"
urlpatterns = [
    # Rounds, sites and exemptions
    # Sampling
    # Lab results and positive tubes
    # Coverage and figures
]
