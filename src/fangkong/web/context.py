"""Template context shared by every console page: the navigation the actor may use."""

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from fangkong.core.roles import is_staff_member, may_browse_audit

_NAV = [
    ("web:home", _("首页"), is_staff_member),
    ("places:tree", _("地点"), is_staff_member),
    ("people:list", _("人员台账"), is_staff_member),
    ("screening:my_follow_ups", _("我的跟踪"), is_staff_member),
    ("screening:arrivals", _("返乡登记"), is_staff_member),
    ("screening:lists", _("核查名单"), is_staff_member),
    ("screening:rounds", _("入户排查"), is_staff_member),
    ("health:observations", _("隔离观察"), is_staff_member),
    ("health:checks_pending", _("体温待报"), is_staff_member),
    ("health:cases", _("阳性病例"), is_staff_member),
    ("health:transfers", _("转运"), is_staff_member),
    ("zones:list", _("封控管控"), is_staff_member),
    ("testing:rounds", _("核酸筛查"), is_staff_member),
    ("access:checkpoints", _("卡口通行"), is_staff_member),
    ("core:audit", _("审计日志"), may_browse_audit),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    for name, label, allowed in _NAV:
        if not allowed(user):
            continue
        try:
            items.append({"url": reverse(name), "label": label,
                          "active": request.path.startswith(reverse(name)) and reverse(name) != "/"})
        except NoReverseMatch:
            continue
    return {"nav_items": items}
