"""Who may do what in mass testing: the roles of each kind of work, a predicate for pages and the API to ask,
and the refusal a service raises."""

from django.utils.translation import gettext as _

from fangkong.accounts.models import Role
from fangkong.core.errors import NotAllowed
from fangkong.core.roles import is_staff_member
from fangkong.testing.models import SamplingSite

ROUND_MANAGER_ROLES = frozenset({Role.STREET_ADMIN, Role.COMMUNITY_STAFF})
SAMPLER_ROLES = frozenset({Role.MEDIC, Role.COMMUNITY_STAFF, Role.STREET_ADMIN})
RESULT_IMPORTER_ROLES = frozenset({Role.COMMUNITY_STAFF, Role.STREET_ADMIN, Role.MEDIC})


def may_manage_rounds(actor) -> bool:
    """Rounds, sites, teams, rosters and exemptions: community staff and street admins."""
    return actor.is_authenticated and (actor.is_superuser or actor.role in ROUND_MANAGER_ROLES)


def require_round_manager(actor) -> None:
    if not may_manage_rounds(actor):
        raise NotAllowed(_("只有社区工作人员或街道管理员可以安排筛查轮次、采样点和免采人员"))


def is_sampler_anywhere(actor) -> bool:
    """Medics, community staff and street admins sample at every site in their scope (`may_sample_at`)."""
    return actor.is_superuser or actor.role in SAMPLER_ROLES


def may_sample_at(actor, site: SamplingSite | None) -> bool:
    """Medics, community staff and street admins sample at every site in scope; other staff only at a site
    whose team they are on (without a site, nowhere)."""
    if not is_staff_member(actor):
        return False
    return is_sampler_anywhere(actor) or (site is not None and site.team.filter(pk=actor.pk).exists())


def require_sampling_staff(actor) -> None:
    """Only staff sample; which sites they sample at is `may_sample_at`'s."""
    if not is_staff_member(actor):
        raise NotAllowed(_("仅工作人员可以采样"))


def require_sampler(actor, site: SamplingSite) -> None:
    require_sampling_staff(actor)
    if may_sample_at(actor, site):
        return
    raise NotAllowed(_("您不在“%(site)s”的采样人员名单中") % {"site": site.name}, code="not_on_team")


def may_import_results(actor) -> bool:
    """Community staff, the street's task force and medics bring in the lab's results."""
    return actor.is_authenticated and (actor.is_superuser or actor.role in RESULT_IMPORTER_ROLES)


def require_result_importer(actor) -> None:
    if not may_import_results(actor):
        raise NotAllowed(_("只有社区工作人员、街道专班和医护人员可以登记检测结果"))
