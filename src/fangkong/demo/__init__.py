"""The demo street, built the same way on every machine through the services the console uses.

中专路街道 › 春雨社区 › 驰誉小区 follows the field report in seeds/000 (3 buildings, 144
households, 252 people and its special populations and venues); 安国路社区 with its 13
compounds follows seeds/001 and sits in the same street, so scope is visible.

`constants` holds every name and figure; `plan` draws the fictitious people; the loaders write,
in this order, the registry (`registry`), the follow-up work (`following`), the outbreak
(`outbreak`) and this morning's testing round (`testing`); `sign_ins` prints the accounts.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from fangkong.accounts.models import User
from fangkong.accounts.services import user_create
from fangkong.core.actors import bind_context
from fangkong.core.errors import DomainError
from fangkong.demo.constants import ADMIN_DISPLAY_NAME, ADMIN_USERNAME, DEMO_USERNAMES, PASSWORD, STREET_NAME
from fangkong.demo.following import load_following
from fangkong.demo.outbreak import load_outbreak
from fangkong.demo.registry import load_registry
from fangkong.demo.sign_ins import SignIn, format_sign_ins, sign_ins
from fangkong.demo.testing import load_testing
from fangkong.places.models import Street

__all__ = ["SignIn", "demo_load", "demo_loaded", "format_sign_ins", "sign_ins"]


def demo_loaded() -> bool:
    return Street.objects.filter(name=STREET_NAME).exists()


@transaction.atomic
def demo_load() -> bool:
    """Build the demo street; False (and nothing written) when it is there already."""
    if demo_loaded():
        return False
    taken = sorted(User.objects.filter(username__in=DEMO_USERNAMES).values_list("username", flat=True))
    if taken:
        raise DomainError(_("用户名已被占用,未导入演示数据:%(names)s") % {"names": "、".join(taken)}, code="duplicate")
    admin = user_create(actor=None, username=ADMIN_USERNAME, password=PASSWORD, display_name=ADMIN_DISPLAY_NAME,
                        superuser=True)
    bind_context(admin, via="cli", cli_label="demo")
    demo = load_registry(admin)
    load_following(admin, demo.street, demo.chunyu, demo.anguo)
    load_outbreak(admin, demo.street, demo.chunyu)
    load_testing(admin, demo.chunyu)
    return True
