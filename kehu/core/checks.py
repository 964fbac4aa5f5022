"""Deployment checks (`kehu check --deploy`): what would stop or spoil a production start.

Django's own deploy checks cover cookies, HSTS, DEBUG and the secret key. These add what is
particular to Kehu: the static files must survive the manifest storage (a vendored file that names a
missing `.map` or font made `kehu serve` crash in collectstatic), and settings that only matter in
production (mail, links in mail) are named before users notice them.
"""

import os
import tempfile

from django.conf import settings
from django.core.checks import Error, Info, Tags, Warning, register


@register(Tags.staticfiles, deploy=True)
def check_static_manifest(app_configs=None, **kwargs):
    """Run the manifest storage's post-processing into a throwaway directory, as collectstatic will."""
    from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
    from django.core.management import call_command

    with tempfile.TemporaryDirectory(prefix="kehu-static-check-") as root:
        storage = {"BACKEND": f"{ManifestStaticFilesStorage.__module__}.ManifestStaticFilesStorage",
                   "OPTIONS": {"location": root}}
        from django.test.utils import override_settings

        with override_settings(STATIC_ROOT=root, STORAGES={**settings.STORAGES, "staticfiles": storage}):
            try:
                with open(os.devnull, "w") as devnull:
                    call_command("collectstatic", interactive=False, verbosity=0, stdout=devnull, stderr=devnull)
            except Exception as exc:  # MissingFileError, ValueError: a file that cannot be hashed
                return [Error(
                    f"The static files cannot be collected with the manifest storage used in production: {exc}",
                    hint="Remove the reference (e.g. a sourceMappingURL comment) from the vendored file or ship "
                    "the file it names; see kehu/ui/static/vendor/README.md.",
                    id="kehu.E001",
                )]
    return []


@register(Tags.security, deploy=True)
def check_production_settings(app_configs=None, **kwargs):
    issues = []
    if not getattr(settings, "PRODUCTION", False):
        issues.append(Warning(
            "KEHU_ENV is not 'production': the secure defaults (HTTPS cookies, HSTS, manifest static files) are off.",
            hint="Run the deployment with KEHU_ENV=production and KEHU_SECRET_KEY set.",
            id="kehu.W001",
        ))
        return issues
    if settings.EMAIL_BACKEND == "kehu.core.mail.OutboxBackend":
        issues.append(Info(  # a choice (an install without mail), not a mistake
            "No KEHU_EMAIL_HOST: e-mail (reminders, notifications) goes to the outbox in the admin pages only.",
            hint="Set KEHU_EMAIL_HOST (and KEHU_EMAIL_PORT, KEHU_EMAIL_USER, KEHU_EMAIL_PASSWORD, KEHU_EMAIL_TLS).",
            id="kehu.I002",
        ))
    if "127.0.0.1" in settings.KEHU_BASE_URL or "localhost" in settings.KEHU_BASE_URL:
        issues.append(Warning(
            f"KEHU_BASE_URL is {settings.KEHU_BASE_URL}: the links in e-mails point to this machine.",
            hint="Set KEHU_BASE_URL to the address users open, e.g. https://crm.example.com.",
            id="kehu.W003",
        ))
    return issues


@register()
def check_declarations(app_configs=None, **kwargs):
    """What the apps declare refers to what exists: a record type's navigation section, a bulk
    action's handler on the record type's bulk view (kehu/core/registries.py)."""
    from django.urls import NoReverseMatch, resolve, reverse

    from . import registries
    from .registry import registry

    errors = []
    for rt in registry.all():
        if rt.nav_section and rt.nav_section not in registries.nav_sections:
            errors.append(Error(f"Record type {rt.key!r} is in the navigation section {rt.nav_section!r}, which no "
                                "app declares.", hint="Declare it: registries.nav_section(key, label, order=…).",
                                id="kehu.E010"))
        try:
            view = resolve(reverse(rt.url_name("bulk"))).func.view_class
        except (NoReverseMatch, AttributeError):
            continue
        for action in rt.get_bulk_actions():
            handler = getattr(view, action.handler, None) if isinstance(action.handler, str) else action.handler
            if not callable(handler):  # a method of the bulk view, or a function (registries.bulk_action)
                errors.append(Error(f"Bulk action {action.name!r} of {rt.key!r}: {view.__name__} has no method "
                                    f"{action.handler!r}.", id="kehu.E011"))
    return errors
