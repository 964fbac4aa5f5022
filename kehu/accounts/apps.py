from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "kehu.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from . import authcache, records, signals  # noqa: F401

        authcache.connect()

        from django.db.models.signals import post_migrate

        from .defaults import apply_default_rights

        post_migrate.connect(apply_default_rights, sender=self, dispatch_uid="kehu_default_rights")
