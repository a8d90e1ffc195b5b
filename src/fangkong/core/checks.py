"""`fangkong check`: the dotted paths by which settings wire the layers name functions that exist."""

from django.conf import settings
from django.core.checks import Error, register
from django.utils.module_loading import import_string


def _wired_paths() -> list[tuple[str, str]]:
    paths = [("SCOPE_OF_ACCOUNT", settings.SCOPE_OF_ACCOUNT)]
    for moment, followers in settings.FOLLOWERS.items():
        paths.extend((f"FOLLOWERS[{moment!r}]", path) for path in followers)
    return paths


@register()
def wired_paths_import(app_configs, **kwargs) -> list[Error]:
    errors = []
    for setting, path in _wired_paths():
        try:
            import_string(path)
        except ImportError as err:
            errors.append(Error(f"{setting} names {path}, which cannot be imported: {err}", id="fangkong.E001"))
    return errors
