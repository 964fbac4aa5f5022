import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.core.models import KehuQuerySet


class DataScope(models.TextChoices):
    OWN = "own", _("Own records")
    DEPARTMENT = "department", _("Own department and below")
    ALL = "all", _("All records")


SCOPE_RANK = {DataScope.OWN: 0, DataScope.DEPARTMENT: 1, DataScope.ALL: 2}


class Department(models.Model):
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name=_("parent")
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("manager"),
    )
    path = models.CharField(max_length=255, editable=False, db_index=True, default="")
    order = models.IntegerField(_("order"), default=0)

    objects = KehuQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self):
        return self.name

    def clean(self):
        from django.core.exceptions import ValidationError

        node = self.parent
        while node is not None:
            if self.pk and node.pk == self.pk:
                raise ValidationError({"parent": _("A department cannot be placed under itself.")})
            node = node.parent

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        path = (self.parent.path if self.parent else "") + f"{self.pk}/"
        if path != self.path:
            old = self.path
            Department.objects.filter(pk=self.pk).update(path=path)
            self.path = path
            if old:  # move the subtree along
                for child in Department.objects.filter(path__startswith=old).exclude(pk=self.pk):
                    Department.objects.filter(pk=child.pk).update(path=path + child.path[len(old):])

    @property
    def depth(self):
        return self.path.count("/") - 1


class Role(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name (Chinese)"), max_length=60)
    name_en = models.CharField(_("name (English)"), max_length=60, blank=True)
    description = models.CharField(_("description"), max_length=255, blank=True)
    data_scope = models.CharField(_("data scope"), max_length=20, choices=DataScope.choices, default=DataScope.OWN)
    rights = models.JSONField(_("rights"), default=list, blank=True)
    builtin = models.BooleanField(_("built-in"), default=False, editable=False)
    # the apps' default rights (kehu.core.registries.default_rights) given to this role once: a
    # right listed here is never given again, so one an administrator took away stays away
    defaults_applied = models.JSONField(_("default rights applied"), default=list, blank=True, editable=False)

    objects = KehuQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self):
        from django.utils.translation import get_language

        if (get_language() or "").startswith("en") and self.name_en:
            return self.name_en
        return self.name


class KehuUserManager(UserManager.from_queryset(KehuQuerySet)):
    def pickable(self):
        """Active users for a list of names to choose from (an owner filter, a transfer menu):
        only the columns their name needs. Loading 200 whole users, settings JSON included, was
        a third of the customer list page's time."""
        return self.filter(is_active=True).only("id", "username", "full_name").order_by("username")


class User(AbstractUser):
    full_name = models.CharField(_("full name"), max_length=100, blank=True)
    phone = models.CharField(_("mobile"), max_length=32, blank=True)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="members",
        verbose_name=_("department"),
    )
    roles = models.ManyToManyField(Role, blank=True, related_name="users", verbose_name=_("roles"))
    must_change_password = models.BooleanField(_("must change password"), default=True)
    password_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=50, default="Asia/Shanghai")
    preferences = models.JSONField(default=dict, blank=True, editable=False)
    calendar_token = models.CharField(max_length=64, blank=True, editable=False)

    objects = KehuUserManager()

    # data scope for users: a user is "owned" by themself
    scope_owner_field = None  # users, roles, departments are not scoped; rights decide

    class Meta:
        ordering = ["username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")
        # the user list's keyset order (username, id): the unique index on username alone does
        # not give PostgreSQL that order (kehu/core/tests/test_list_plans.py)
        indexes = [models.Index(fields=["username", "id"], name="user_username_id_idx")]

    def __str__(self):
        return self.full_name or self.username

    @property
    def access(self):
        from . import authcache
        from .scope import Access

        cached = getattr(self, "_kehu_access", None)
        if cached is None:
            cached = self._kehu_access = authcache.access(self, lambda: Access.for_user(self))
        return cached

    def has_right(self, module: str, action: str) -> bool:
        return self.access.allows(module, action)


def hash_token(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user"))
    name = models.CharField(_("name"), max_length=100, default="script")
    prefix = models.CharField(_("prefix"), max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.prefix}… ({self.name})"

    @classmethod
    def issue(cls, user, name="script"):
        """Create a token; the clear key is returned once and only its hash is stored."""
        key = "kh_" + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, prefix=key[:10], key_hash=hash_token(key))
        return token, key

    @property
    def is_valid(self):
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class KnownDevice(models.Model):
    """Where a user has logged in from; a new one triggers a login-anomaly alert."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="known_devices")
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    ua_hash = models.CharField(max_length=64)
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "ip", "ua_hash"], name="accounts_knowndevice_unique")
        ]

    def __str__(self):
        return f"{self.user} {self.ip}"
