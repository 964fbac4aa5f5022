"""Import speed (issue 15): a generated CSV of customers with their primary contact, checked (dry
run) and imported by the import engine as the worker runs it, on the database of DATABASE_URL.

    KEHU_VAR_DIR=$(mktemp -d) DATABASE_URL=sqlite:///$dir/bench.sqlite3 python scripts/bench_import.py --rows 100000
    DATABASE_URL=postgres://kehu@127.0.0.1:54349/postgres python scripts/bench_import.py --rows 100000

Prints rows/s of the dry run and of the import and the process's peak resident memory after each
(a line after the dry run, a line after the import), with the machine's load average (the 2 CPUs
are shared) and the rows per second of the process's own CPU time (`*_cpu_rows_s`: what the
engine would do on an idle core; the database server's time is not in it on PostgreSQL)."""

import argparse
import csv
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.settings")
os.environ.setdefault("KEHU_TASKS_BACKEND", "django_tasks.backends.immediate.ImmediateBackend")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_csv(path: Path, n: int) -> None:
    industries = ["制造业", "信息技术", "零售", "金融", "物流"]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["客户名称", "行业", "电话", "邮箱", "联系人", "手机", "首次联系", "员工数", "标签"])
        for i in range(n):
            w.writerow([f"基准测试{i:07d}贸易有限公司", industries[i % 5], f"138{i:08d}", f"c{i}@bench.example.com",
                        f"联系人{i}", f"139{i:08d}", "2026/1/5", str(10 + i % 500), "基准" if i % 10 == 0 else ""])


def profiled(directory, name, fn, *args, **kwargs):
    """fn(*args, **kwargs), under cProfile when a directory is given (the CPU figures are then the profiler's)."""
    if not directory:
        return fn(*args, **kwargs)
    import cProfile

    profile = cProfile.Profile()
    try:
        return profile.runcall(fn, *args, **kwargs)
    finally:
        Path(directory).mkdir(parents=True, exist_ok=True)
        profile.dump_stats(str(Path(directory) / f"{name}.prof"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--profile", metavar="DIR", help="write cProfile data of the dry run and the import "
                        "(DIR/dry_run.prof, DIR/import.prof)")
    args = parser.parse_args()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from kehu.accounts.models import User
    from kehu.core.imports import engine, jobs
    from kehu.core.models import ImportJob

    user = User.objects.filter(username="bench-import").first() or User.objects.create_superuser(
        "bench-import", "bench@example.com", "x")
    tmp = Path(tempfile.mkdtemp())
    path = tmp / "customers.csv"
    write_csv(path, args.rows)
    job = jobs.create(user, "customer", "customers.csv", data=path.read_bytes())
    job.status = ImportJob.Status.RUNNING
    job.save()
    result = {"database": connection.vendor, "rows": args.rows, "peak_mb_start": round(peak_mb())}
    t, cpu = time.perf_counter(), time.process_time()
    report = profiled(args.profile, "dry_run", engine.run, job, dry_run=True, progress=engine.Progress(job))
    seconds = time.perf_counter() - t
    assert report["counts"]["created"] == args.rows, report["counts"]
    result.update(dry_run_s=round(seconds, 1), dry_run_rows_s=round(args.rows / seconds),
                  dry_run_cpu_rows_s=round(args.rows / (time.process_time() - cpu)),
                  peak_mb_after_dry_run=round(peak_mb()), load_before=round(os.getloadavg()[0], 1))
    print(json.dumps(result), flush=True)  # the dry run's figures before the import's
    job.refresh_from_db()
    t, cpu = time.perf_counter(), time.process_time()
    report = profiled(args.profile, "import", engine.run, job, dry_run=False, progress=engine.Progress(job))
    seconds = time.perf_counter() - t
    assert report["counts"]["created"] == args.rows, report["counts"]
    result.update(import_s=round(seconds, 1), import_rows_s=round(args.rows / seconds),
                  import_cpu_rows_s=round(args.rows / (time.process_time() - cpu)),
                  peak_mb_after_import=round(peak_mb()), load_after=round(os.getloadavg()[0], 1))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
