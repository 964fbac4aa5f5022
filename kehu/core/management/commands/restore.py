from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from kehu.core.backup.archive import ArchiveError
from kehu.core.backup.engines import BackupError
from kehu.core.backup.service import restore_archive, verify_archive


class Command(BaseCommand):
    help = ("Restore a `kehu backup` archive into the configured database and MEDIA_ROOT. The archive is checked "
            "member by member first; the database must be empty unless --force. Stop Kehu's web server and worker "
            "first. See docs/deployment.md.")

    def add_arguments(self, parser):
        parser.add_argument("archive")
        parser.add_argument("--force", action="store_true",
                            help="Replace a database that is not empty (everything in it is lost) and overwrite "
                                 "media files of the same name.")
        parser.add_argument("--check", action="store_true",
                            help="Only check the archive (restored into a scratch database); change nothing.")

    def handle(self, *args, archive, force=False, check=False, **options):
        try:
            if check:
                summary = verify_archive(archive)
                self.stdout.write(f"{archive}: OK, {summary['tables']} tables, {summary['rows']} rows")
                return
            connections.close_all()  # the database file is replaced / the schema dropped under it
            summary = restore_archive(archive, force=force)
        except (ArchiveError, BackupError) as exc:
            raise CommandError(str(exc))
        finally:
            connections.close_all()
        self.stdout.write(f"Restored {archive} (made {summary['created_at']} by Kehu {summary['kehu_version']}): "
                          f"{summary['tables']} tables, {summary['rows']} rows, {summary['media']} files, "
                          "every table equal to the manifest.")
        if summary["pending_migrations"]:
            self.stdout.write(f"This Kehu has {len(summary['pending_migrations'])} migrations the backup predates: "
                              "run `kehu migrate` now.")
