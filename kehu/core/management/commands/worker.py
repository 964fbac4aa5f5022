import json
import logging

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = ("Run the background worker: django-tasks' database worker plus the periodic scheduler "
            "(the jobs the apps declare: kehu/core/registries.py).")

    def add_arguments(self, parser):
        parser.add_argument("--batch", action="store_true", help="Exit when the queue is empty (no scheduler).")
        parser.add_argument("--once", action="store_true",
                            help="Run the periodic jobs that are due now, in this process, and exit (cron, tests).")
        parser.add_argument("--no-scheduler", action="store_true", help="Only process the task queue.")
        parser.add_argument("--tick", type=float, default=60.0, help="Scheduler interval in seconds (default 60).")

    def handle(self, *args, batch=False, once=False, no_scheduler=False, tick=60.0, **options):
        from kehu.core.scheduler import Scheduler, run_due_jobs

        if once:
            results = run_due_jobs(execute=True)
            self.stdout.write(json.dumps(results, default=str, ensure_ascii=False))
            if batch:
                call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay")
            return
        scheduler = None
        if not batch and not no_scheduler:
            if not logging.getLogger("kehu").handlers:
                logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
            scheduler = Scheduler(interval=tick)
            scheduler.start()
        try:
            # the database worker runs in the main thread: it owns the signal handlers
            call_command("db_worker", "--no-reload", *(["--batch"] if batch else []))
        finally:
            if scheduler is not None:
                scheduler.stop()
