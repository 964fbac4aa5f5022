"""Helpers of the import tests of every app (kehu/core/imports): files written by the tests and a
job run through its dry run and its import as the worker runs them."""

import csv
import io

import openpyxl
from django.test import TestCase
from django.utils import translation

from kehu.core.imports import jobs
from kehu.core.models import ImportJob


def csv_bytes(rows, encoding="utf-8", delimiter=","):
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter).writerows(rows)
    return buf.getvalue().encode(encoding)


def xlsx_bytes(rows, merges=()):
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    for ref in merges:
        sheet.merge_cells(ref)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def start(job, dry_run):
    """jobs.start enqueues on commit: the test's transaction never commits, so run the callbacks."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        jobs.start(job, dry_run=dry_run)
    job.refresh_from_db()
    return job


def run(user, data, filename="客户.csv", key="customer", *, duplicates="skip", mode="good", mapping=None,
        value_map=None, preset="", dry_only=False):
    with translation.override("en"):  # the job's language: its messages are in English
        job = jobs.create(user, key, filename, data=data, preset=preset)
    if mapping:
        job.mapping = {**job.mapping, **mapping}
    if value_map:
        job.value_map = value_map
    job.duplicates, job.mode = duplicates, mode
    job.save()
    start(job, True)
    assert job.status == ImportJob.Status.CHECKED, job.error
    if dry_only:
        return job
    start(job, False)
    return job
