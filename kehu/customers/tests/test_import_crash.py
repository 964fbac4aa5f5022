"""Crash safety of imports (issue 15): the worker is a real process, killed with SIGKILL in the
middle of an import. An all-or-nothing import leaves no rows; its job shows as failed with a clear
message once the scheduler's cleanup sees no heartbeat, and it can be started again. A good-rows
import keeps its committed batches and goes on after them when restarted.

20,000 rows (not 200,000) keep the suite fast; the worker is killed once it has reported progress."""

import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import translation

from kehu.core.imports import files, jobs
from kehu.core.models import ImportJob

ROWS = 20_000
ROOT = Path(__file__).resolve().parents[3]


def big_csv(n):
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["客户名称", "电话", "联系人", "手机"])
    for i in range(n):
        w.writerow([f"崩溃测试客户{i:06d}有限公司", f"138{i:08d}", f"联系人{i}", f"139{i:08d}"])
    return buf.getvalue().encode("utf-8")


def database_url(tmp_path) -> str:
    """The test database for another process: PostgreSQL's test database by name; SQLite's is in
    memory, so it is copied to a file (the data is committed: a transactional test)."""
    s = connection.settings_dict
    if connection.vendor == "postgresql":
        return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    path = tmp_path / "crash.sqlite3"
    connection.ensure_connection()
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    target.close()
    return f"sqlite:///{path}"


def worker(command, job_id, url, **kwargs):
    env = {**os.environ, "DATABASE_URL": url, "KEHU_MEDIA_ROOT": str(settings.MEDIA_ROOT),
           "KEHU_TASKS_BACKEND": "django_tasks_db.DatabaseBackend", "DJANGO_SETTINGS_MODULE": "tests.settings",
           "KEHU_SQLITE_TEST_NAME": ""}
    args = [sys.executable, "-m", "kehu.customers.tests.import_worker", command, str(job_id)]
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **kwargs)


def last_json(out: str) -> dict:
    return json.loads([line for line in out.splitlines() if line.startswith("{")][-1])


def kill_when_running(proc, job, min_rows):
    """SIGKILL the worker once its progress file shows `min_rows` rows read."""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        data = files.read_progress(job)
        if data and data["rows_done"] >= min_rows:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return data
        if proc.poll() is not None:
            pytest.fail(f"the worker ended before it was killed: {proc.stderr.read()[-3000:]}")
        time.sleep(0.05)
    proc.kill()
    pytest.fail("the worker made no progress")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("mode", ["all", "good"])
def test_kill_9_mid_import(org, tmp_path, mode):
    with translation.override("en"):  # the job's language, in which its recovery message is written
        job = jobs.create(org.manager, "customer", "crash.csv", data=big_csv(ROWS))
    ImportJob.objects.filter(pk=job.pk).update(mode=mode, status=ImportJob.Status.CHECKED)
    url = database_url(tmp_path)

    proc = worker("work", job.pk, url)
    progress = kill_when_running(proc, job, 3000)
    assert 3000 <= progress["rows_done"] < ROWS

    state = last_json(worker("check", job.pk, url).communicate(timeout=120)[0])
    assert state["status"] == "running"  # nobody has noticed yet
    if mode == "all":
        assert (state["customers"], state["contacts"]) == (0, 0)  # nothing of the import is left
    else:
        assert 0 < state["customers"] < ROWS and state["customers"] % 1000 == 0  # whole batches only
        assert state["contacts"] == state["customers"]

    out, err = worker("recover", job.pk, url).communicate(timeout=600)
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert lines[0] == {"dead": 1}, err[-3000:]
    assert lines[1]["status"] == "failed"
    if mode == "all":
        assert "nothing was imported" in lines[1]["error"]
    else:
        assert "the rows up to it are imported" in lines[1]["error"]
    final = lines[-1]
    assert final["status"] == "done", err[-3000:]
    assert (final["customers"], final["contacts"]) == (ROWS, ROWS)  # restarted: every row once
