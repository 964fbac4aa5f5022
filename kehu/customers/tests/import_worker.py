"""A worker process for the import crash test (test_import_crash.py): `work <job id>` queues the
import and runs django-tasks' database worker on it, as `kehu worker` does; `check <job id>` prints
the job and the rows as JSON; `recover <job id>` runs the scheduler's cleanup as if the stale limit
had passed, then restarts the import and runs it to the end."""

import datetime
import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")


def main(command, job_id):
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from kehu.core.imports import jobs
    from kehu.core.models import ImportJob
    from kehu.customers.models import Contact, Customer

    job = ImportJob.objects.get(pk=job_id)
    if command == "work":
        jobs.start(job, dry_run=False, checked=False)  # enqueued on commit (autocommit here)
        call_command("db_worker", "--batch", "--no-reload", verbosity=0)
    elif command == "recover":
        print(json.dumps({"dead": jobs.cleanup(timezone.now() + datetime.timedelta(hours=1))}))
        job.refresh_from_db()
        print(json.dumps({"status": job.status, "error": job.error}))
        jobs.start(job, dry_run=False)
        call_command("db_worker", "--batch", "--no-reload", verbosity=0)
    job.refresh_from_db()
    print(json.dumps({"status": job.status, "error": job.error, "created": job.created,
                      "customers": Customer.all_objects.count(), "contacts": Contact.all_objects.count()}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
