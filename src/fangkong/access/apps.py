from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessConfig(AppConfig):
    name = "fangkong.access"
    label = "access"
    verbose_name = _("卡口与出入证")
