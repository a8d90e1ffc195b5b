from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ZonesConfig(AppConfig):
    name = "fangkong.zones"
    label = "zones"
    verbose_name = _("封控管控区域")
