"""What core itself adds to the registries (kehu/core/registries.py)."""

from django.utils.translation import gettext_lazy as _

from . import registries as r
from .backup import jobs as backup_jobs
from .backup import views as backup_views
from .exports_jobs import cleanup_exports
from .imports.jobs import cleanup_imports
from .statistics import refresh_statistics

r.rights_module("audit", _("Audit log"))
r.rights_module("outbox", _("Mail outbox"))
r.rights_module("account", _("Whole-account export"))  # account.export: every record type in one zip
r.rights_module("backup", _("Backups"))  # the admin role's "*" holds it
r.nav_entry("audit", _("Audit log"), "core:audit_log", right="audit.view", icon="ti-history", order=70)
# e-mail kept instead of sent (kehu/core/mail.py)
r.nav_entry("outbox", _("Outbox"), "core:outbox", right="outbox.view", icon="ti-mail", order=80)
r.job(cleanup_exports)  # every minute: dead export jobs, expired export files
r.job(cleanup_imports)  # every minute: imports whose worker died are marked failed (kehu/core/imports/jobs.py)
r.job(refresh_statistics, daily_at=4)  # SQLite planner figures (kehu/core/statistics.py); PostgreSQL: autovacuum
# backups (kehu/core/backup/): the page, the administrators' card on My day, the daily job
r.nav_entry("backups", _("Backups"), "core:backups", right="backup.view", icon="ti-database-export", order=90)
r.home_panel("backup", _("Backup"), right="backup.view", build=backup_views.card_panel, column="side",
             icon="ti-database-export", order=120)
r.job(backup_jobs.scheduled_backup, daily_at=backup_jobs.backup_hour)  # KEHU_BACKUP_HOUR, KEHU_BACKUP_SCHEDULE
