from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangkong.core.roles import Role


class User(AbstractUser):
    """A staff member, a resident, or the system administrator (superuser, no role)."""

    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, blank=True)
    display_name = models.CharField(_("姓名"), max_length=50, blank=True)
    phone = models.CharField(_("手机号"), max_length=20, blank=True, db_index=True)
    scope_street = models.ForeignKey("places.Street", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("负责街道"))
    scope_communities = models.ManyToManyField("places.Community", blank=True, related_name="+",
                                               verbose_name=_("负责社区"))
    scope_grids = models.ManyToManyField("places.Grid", blank=True, related_name="+", verbose_name=_("负责网格"))
    person = models.ForeignKey("people.Person", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="accounts", verbose_name=_("居民本人"))

    objects = UserManager()

    def __str__(self):
        return self.display_name or self.username


class ApiToken(models.Model):
    """A bearer token; only its SHA-256 digest is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)


class OneTimeCode(models.Model):
    """A resident's sign-in code, sent by SMS; only its digest is stored."""

    phone = models.CharField(max_length=20, db_index=True)
    digest = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
