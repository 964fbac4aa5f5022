from django.core.management.base import BaseCommand, CommandError

from kehu.core.backup.archive import ArchiveError
from kehu.core.backup.engines import BackupError
from kehu.core.backup.service import verify_archive


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


class Command(BaseCommand):
    help = ("Back up the database (a consistent snapshot while Kehu runs), the media files and a manifest into one "
            "archive, then verify it by restoring it into a scratch database. See docs/deployment.md.")

    def add_arguments(self, parser):
        parser.add_argument("--output", metavar="DIR", help="Directory for the archive (default KEHU_BACKUP_DIR, "
                                                            "else VAR_DIR/backups).")
        parser.add_argument("--prune", action="store_true",
                            help="Then remove old archives in that directory by the retention policy.")
        parser.add_argument("--verify", metavar="ARCHIVE", help="Only verify an existing archive.")

    def handle(self, *args, output=None, prune=False, verify=None, **options):
        from kehu.core.backup.jobs import run_backup

        if verify:
            try:
                summary = verify_archive(verify)
            except (ArchiveError, BackupError) as exc:
                raise CommandError(str(exc))
            self.stdout.write(f"{verify}: OK, {summary['tables']} tables, {summary['rows']} rows, "
                              f"{summary['members']} members")
            return
        run, result = run_backup(output_dir=output, prune=prune)
        if not run.succeeded:
            raise CommandError(run.message)
        self.stdout.write(f"{result.path}\n  {_size(result.size)}, {result.tables} tables, {result.rows} rows, "
                          f"{result.manifest['media']['files']} files; backup {result.backup_seconds:.1f} s, "
                          f"verified in {result.verify_seconds:.1f} s" + (f"; {run.pruned} old archives removed"
                                                                         if prune else ""))
