from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "fangkong.core"
    label = "core"

    def ready(self):
        from fangkong.core import lookups  # noqa: F401  (registers field__one_of)
