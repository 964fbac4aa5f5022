"""What core itself adds to the registries (kehu/core/registries.py)."""

from django.utils.translation import gettext_lazy as _

from . import registries as r
from .exports_jobs import cleanup_exports
from .imports.jobs import cleanup_imports
from .statistics import refresh_statistics

r.rights_module("audit", _("Audit log"))
r.rights_module("outbox", _("Mail outbox"))
r.rights_module("account", _("Whole-account export"))  # account.export: every record type in one zip
r.nav_entry("audit", _("Audit log"), "core:audit_log", right="audit.view", icon="ti-history", order=70)
# e-mail kept instead of sent (kehu/core/mail.py)
r.nav_entry("outbox", _("Outbox"), "core:outbox", right="outbox.view", icon="ti-mail", order=80)
r.job(cleanup_exports)  # every minute: dead export jobs, expired export files
r.job(cleanup_imports)  # every minute: imports whose worker died are marked failed (kehu/core/imports/jobs.py)
r.job(refresh_statistics, daily_at=4)  # SQLite planner figures (kehu/core/statistics.py); PostgreSQL: autovacuum
