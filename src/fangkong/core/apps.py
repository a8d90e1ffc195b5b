from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "fangkong.core"
    label = "core"

    def ready(self):
        from fangkong.core import checks, lookups  # noqa: F401  (registers the checks and field__one_of)
