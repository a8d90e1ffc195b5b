"""How a lower app's write reaches the app above it that must follow it, without naming that app.

Some writes have consequences in an app above the writer: tagging someone 'dialysis' in the
registry must give them a daily check when they live in a sealed unit (zones); accepting a zone
under 24-hour guard must open its guard post (volunteers). The writer may not import the app
above it, so it names the moment instead ("people.households_changed"), and settings.FOLLOWERS
lists, for each moment, the service functions that follow it, in the order they run.

Not a signal: the whole wiring is that one setting, read top to bottom; every follower runs in
the writer's transaction, so the write and its consequences land together or not at all; a
follower's error fails the write; a moment missing from the setting fails it too, rather than
pass in silence; and `fangkong check` reports a follower that cannot be imported (core.checks).
"""

from django.conf import settings
from django.utils.module_loading import import_string


def follow(moment: str, **facts) -> None:
    """Call, in order, every follower settings.FOLLOWERS names for the moment, with the facts as keywords."""
    for path in settings.FOLLOWERS[moment]:
        import_string(path)(**facts)
