"""The import engine: reads the job's file in batches, coerces each mapped cell, validates each
row through the record type's form (with the importing user), finds duplicates per batch (in the
database, with set-based queries, and within the file), and — unless it is a dry run — writes the
batch and what undo needs in one transaction.

A dry run writes nothing but the report: counts, the first bad rows and duplicates, unknown
dictionary values, and the error file (the original rows with a reason column)."""

from __future__ import annotations

import copy
import csv
import itertools
import logging
import re
import time
import zlib
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import base, coerce, readers
from .models import ImportBatch, ImportJob
from .plan import FormPlan

log = logging.getLogger(__name__)

REPORT_LIMIT = 500  # bad rows and duplicates kept in the job for the page and the API
UNKNOWN_LIMIT = 50  # unknown values kept per dictionary field
PROGRESS_SECONDS = 1.0


class Cancelled(Exception):
    pass


class Abort(Exception):
    """An all-or-nothing import met a bad row: everything is rolled back."""


@dataclass
class Row:
    line: int
    cells: list
    data: dict = field(default_factory=dict)
    child: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)  # [(column header, message)]
    tags: list | None = None
    blank: set = field(default_factory=set)
    refs: dict = field(default_factory=dict)  # field -> text to look up (a contact's customer)
    form: object = None
    child_form: object = None
    existing: tuple | None = None  # (pk, label, reasons, visible)
    existing_obj: object = None
    dup_line: int | None = None
    action: str = ""  # create | update | skip | error | part (a further row of the record above: counted with it)
    group: int | None = None  # a grouped importer: the line of the first row of this row's record
    head: Row | None = None  # a further row of a record (an order's next line): the record's first row
    parts: list = field(default_factory=list)  # the first row of a record: its further rows
    past: tuple | None = None  # (state, {date field: time}): a past state the row gives (base.PastState)
    past_since: object = None  # the record's own date and time (an order's date): the earliest of its past

    def error(self, column, message):
        self.errors.append((str(column), str(message)))


class Context:
    """What a run knows once: the user, the fields, dictionary and user indexes, choices' rows."""

    def __init__(self, job: ImportJob, importer: base.Importer, dry_run: bool):
        from kehu.core.models import DictItem

        self.job, self.importer, self.user, self.dry_run = job, importer, job.user, dry_run
        self.fields = {f.name: f for f in importer.fields()}
        self.headers = job.headers
        self.mapping = {int(k): v for k, v in job.mapping.items() if v}
        self.index_of = {v: k for k, v in self.mapping.items()}  # field -> its column's index
        self.column_of = {v: job.headers[k] if k < len(job.headers) else v for k, v in self.mapping.items()}
        self.value_map = job.value_map or {}
        self.dicts: dict[str, dict[str, int]] = {}
        for item in DictItem.objects.filter(active=True).order_by("order", "id"):
            index = self.dicts.setdefault(item.kind, {})
            for k in (item.label, item.label_en, item.code):
                if k:
                    index.setdefault(coerce.key(k), item.pk)
        self.users = None
        self.unknown: dict[str, list[str]] = {}
        self.defaults = None
        self.preloaded: dict = {}
        self.child_preloaded: dict = {}
        self.refs: dict = {}  # form field -> {pk: row} of the batch's references, read in one query
        self.child_refs: dict = {}  # the same for the child form's fields (an order line's product)
        self.forms: dict = {}  # the forms of new records, built once (`_rebound`)
        self.plans: dict = {}  # their compiled plans (`plan.FormPlan`), per slot ("form", "child")
        self.preloaded_batch: dict = {}
        self.batch_no = 0
        self.form_owner: dict = {}
        self.columns: list | None = None  # the columns' coercion steps, built on the first row (`column_steps`)
        self.is_admin = self.user.has_right("dictitem", "create")

    def cell(self, cells, name):
        """The raw cell of the column mapped to `name` (None when no column is)."""
        i = self.index_of.get(name)
        return cells[i] if i is not None and i < len(cells) else None

    def user_index(self) -> dict[str, int]:
        if self.users is None:
            from kehu.accounts.models import User

            self.users = {}
            for pk, username, full_name, email in User.objects.filter(is_active=True).values_list(
                    "pk", "username", "full_name", "email"):
                for k in (username, full_name, email):
                    if k:
                        self.users.setdefault(coerce.key(k), pk)
        return self.users

    def dict_value(self, f: base.ImportField, raw: str):
        """The dictionary value's pk, or None with the value remembered as unknown."""
        k = coerce.key(raw)
        pk = self.dicts.get(f.dict_kind, {}).get(k)
        if pk:
            return pk
        choice = self.value_map.get(f.name, {}).get(k)
        if isinstance(choice, int) or (isinstance(choice, str) and choice.isdigit()):
            return int(choice)
        if choice == "reject":  # the user chose to refuse it: a bad row, not asked again
            return None
        if choice == "new" and self.is_admin:
            if self.dry_run:
                return "new"
            return self.new_dict_item(f.dict_kind, raw)
        values = self.unknown.setdefault(f.name, [])
        if raw not in values and len(values) < UNKNOWN_LIMIT:
            values.append(raw)
        return None

    def new_dict_item(self, kind: str, label: str) -> int:
        from kehu.core.models import DictItem

        code = f"imp{zlib.crc32(label.encode()):08x}"
        item, _created = DictItem.objects.get_or_create(kind=kind, code=code, defaults={"label": label[:100]})
        self.dicts.setdefault(kind, {})[coerce.key(label)] = item.pk
        return item.pk


_SPLIT = re.compile(r"[,;，；、/|\n]+")
_EMAIL = re.compile(r"[^\s,;<>\"'()\[\]{}:]+@[^\s,;<>\"'()\[\]{}:]+\.[^\s,;<>\"'()\[\]{}:]+")


def coerce_row(row: Row, ctx: Context) -> None:
    """Cells to the forms' data (`row.data`, `row.child`), errors on the row. Each column's
    coercion is chosen once per run (`Context.columns`, `column_steps`); a column of a kind whose
    cells repeat (dates, numbers, yes/no) keeps its results per cell text (`KEPT_SIZE` of them),
    so a repeated cell is not parsed again: the same value, and any bad cell is coerced (and
    rejected, with its message in the user's language) every time."""
    steps = ctx.columns
    if steps is None:
        steps = ctx.columns = column_steps(ctx)
    cells = row.cells
    n = len(cells)
    data, child = row.data, row.child
    virtual = None
    for col, name, column, f, form_field, plain, kept in steps:
        raw = cells[col] if col < n else None
        if f is None:  # a virtual field (first name + last name -> name)
            if virtual is None:
                virtual = {}
            virtual[name] = coerce.text(raw)
            continue
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            row.blank.add(form_field)  # an update keeps the stored value of an empty cell
        try:
            if plain is None:
                value = _coerce(f, raw, row, ctx)
            elif kept is not None and raw.__class__ is str:
                value = kept.get(raw)
                if value is None:
                    value = plain(raw)
                    if len(kept) < KEPT_SIZE:
                        kept[raw] = value
            else:
                value = plain(raw)
        except ValueError as exc:
            row.error(column, exc)
            continue
        if value is _REJECT:
            row.error(column, _("“%(value)s” is not in the list of %(field)s.") % {
                "value": coerce.text(raw), "field": f.label})
            continue
        if value is not _SKIP:
            (child if f.target else data)[form_field] = value
    if virtual:
        ctx.importer.apply_virtual(row, virtual)


KEPT_SIZE = 5000  # coerced cells kept per column of a repeating kind


def column_steps(ctx: Context) -> list:
    """Per mapped column, in the mapping's order: (index, field name, column header, import field
    or None for a virtual field, form field, the kind's pure coercion or None, its kept results or
    None)."""
    steps = []
    virtual_names = ctx.importer.virtual_fields()
    for col, name in ctx.mapping.items():
        f = ctx.fields.get(name)
        if f is None:
            if name in virtual_names:
                steps.append((col, name, ctx.column_of[name], None, None, None, None))
            continue
        plain = _PLAIN.get(f.kind)
        kept = {} if f.kind in _KEPT_KINDS else None
        steps.append((col, name, ctx.column_of[name], f, f.form_field, plain, kept))
    return steps


_SKIP, _REJECT = object(), object()


def _phone_cell(raw) -> str:
    value = coerce.phone(raw)
    return _SPLIT.split(value)[0].strip() if value else ""


def _email_cell(raw) -> str:
    value = coerce.text(raw)
    found = _EMAIL.search(value)
    return found.group(0) if found else value


# the kinds whose coercion is a function of the cell alone (no row, no context, no state)
_PLAIN = {base.TEXT: coerce.text, base.LONGTEXT: coerce.long_text, base.PHONE: _phone_cell,
          base.EMAIL: _email_cell, base.NUMBER: coerce.number, base.INTEGER: coerce.integer,
          base.DATE: coerce.date, base.DATETIME: coerce.date_time, base.BOOL: coerce.boolean}
# of those, the kinds whose cells repeat in a file: their results kept per cell text (never an error)
_KEPT_KINDS = frozenset((base.NUMBER, base.INTEGER, base.DATE, base.DATETIME, base.BOOL))


def _coerce(f: base.ImportField, raw, row: Row, ctx: Context):
    kind = f.kind
    plain = _PLAIN.get(kind)
    if plain is not None:
        return plain(raw)
    if kind == base.TAGS:
        value = coerce.text(raw)
        row.tags = [t.strip() for t in _SPLIT.split(value) if t.strip()] or None
        return ",".join(row.tags or ())
    value = coerce.text(raw)
    if not value:
        return ""
    if kind == base.DICT:
        pk = ctx.dict_value(f, value)
        return _REJECT if pk is None else ("" if pk == "new" else str(pk))
    if kind == base.CHOICE:
        found = f.choices.get(coerce.key(value))
        return _REJECT if found is None else found
    if kind == base.MULTI:
        out = []
        for part in _SPLIT.split(value):
            found = f.choices.get(coerce.key(part))
            if found is None and part.strip():
                return _REJECT
            if found is not None:
                out.append(found)
        return out
    if kind == base.USER:
        pk = ctx.user_index().get(coerce.key(value))
        if pk is None:
            raise ValueError(_("“%(value)s” is not a user of Kehu.") % {"value": value})
        return str(pk)
    if kind == base.REF:
        row.refs[f.name] = value  # a child's field by its import name ("line_product")
        return _SKIP
    return value


# --- forms ------------------------------------------------------------------------------------------

def _preload(form, cache: dict, refs: dict):
    """Resolve the form's choices (dictionary values, owners) from rows read once per run from
    each field's own queryset, instead of a query per row and field."""
    from django import forms as djforms
    from django.contrib.auth import get_user_model

    from kehu.core.forms import DictItemChoiceField, PreloadedModelChoiceField
    from kehu.core.models import DictItem

    for name, ff in form.fields.items():
        if name in refs and isinstance(ff, djforms.ModelChoiceField):
            ff.__class__ = PreloadedModelChoiceField
            ff.preloaded = refs[name]
        elif type(ff) in (djforms.ModelChoiceField, DictItemChoiceField) and ff.queryset is not None and \
                ff.queryset.model in (DictItem, get_user_model()):
            if name not in cache:
                cache[name] = {o.pk: o for o in ff.queryset} if ff.queryset is not None else {}
            if len(cache[name]) <= 20000:
                ff.__class__ = PreloadedModelChoiceField
                ff.preloaded = cache[name]


def defaults_of(ctx: Context) -> dict:
    """What an empty form of a new record starts with (the UI posts these unless changed)."""
    if ctx.defaults is None:
        form = ctx.importer.make_form(None, ctx.user)
        ctx.defaults = {}
        for name, ff in form.fields.items():
            value = form.get_initial_for_field(ff, name)
            if value not in (None, "", [], False):
                ctx.defaults[name] = value.pk if hasattr(value, "pk") else value
        if "owner" in form.fields and "owner" not in ctx.defaults:
            ctx.defaults["owner"] = ctx.user.pk
    return ctx.defaults


def validate(row: Row, ctx: Context, instance=None) -> None:
    """Validate the row through the record's form (and its child's) and collect their errors on
    the row. A new record goes through the run's compiled form (`plan.FormPlan`: the form's
    fields, clean methods and the model's validation, without binding a form per row)."""
    importer = ctx.importer
    if row.head is not None:  # a further row of a record: its record's fields are its first row's
        row.form = None
        _validate_child(row, ctx)
        return
    if instance is None:
        # an empty cell of a new record keeps what its form starts with (a tax rate of 13 %, the
        # importing user as owner), as a form the user did not change
        defaults = defaults_of(ctx)
        data = {**defaults, **{k: v for k, v in row.data.items() if not (k in row.blank and k in defaults)}}
    else:
        unbound = importer.make_form(None, ctx.user, instance=instance)
        data = {}
        for name, ff in unbound.fields.items():
            value = unbound.get_initial_for_field(ff, name)
            data[name] = value.pk if hasattr(value, "pk") else value
        data = {k: v for k, v in data.items() if v is not None}
        data.update({k: v for k, v in row.data.items() if k not in row.blank})
    importer.prepare_data(row, data, ctx)
    if instance is None:
        form = _bind_new(ctx, "form", lambda: importer.make_form(None, ctx.user), data)
    else:
        form = importer.make_form(data, ctx.user, instance=instance)
        _preload(form, ctx.preloaded, ctx.refs)
    row.form = form
    if not form.is_valid():
        _form_errors(row, form, ctx, "")
    if instance is None:
        _validate_child(row, ctx)


def _validate_child(row: Row, ctx: Context) -> None:
    importer = ctx.importer
    if importer.child_prefix and any(v not in ("", None) for v in row.child.values()):
        child = _bind_new(ctx, "child", lambda: importer.make_child_form(None, ctx.user), row.child)
        row.child_form = child
        if not child.is_valid():
            _form_errors(row, child, ctx, importer.child_prefix)


def _preload_args(ctx: Context, slot: str):
    return (ctx.preloaded, ctx.refs) if slot == "form" else (ctx.child_preloaded, ctx.child_refs)


def _bind_new(ctx: Context, slot: str, build, data):
    """The row's data bound to the run's form of a new record: through its compiled plan, or (a
    form the plan cannot follow) the form bound again (`_rebound`)."""
    found = ctx.plans.get(slot)
    if found is None:
        form = build()
        _preload(form, *_preload_args(ctx, slot))
        found = ctx.plans[slot] = FormPlan(form)
        ctx.preloaded_batch[slot] = ctx.batch_no
    if ctx.preloaded_batch.get(slot) != ctx.batch_no:  # the batch's references (a contact's customers)
        _preload(found.form, *_preload_args(ctx, slot))
        ctx.preloaded_batch[slot] = ctx.batch_no
    if found.compiled:
        return found.clean(data)
    form = _rebound(ctx, slot, lambda: found.form, data)
    _preload(form, *_preload_args(ctx, slot))
    return form


def _rebound(ctx: Context, slot: str, build, data):
    """The record type's form for a new record, built once per run and bound to each row's data
    with a fresh instance: the same fields, choices (the user's scope), clean() and model
    validation as a new form, without building the form (its field copies and querysets) per row.
    A row's form is only used until its batch is written, so the last form stays the row's own
    once the next row takes the slot: each row gets the bound form of the same build."""
    template = ctx.forms.get(slot)
    if template is None:
        template = ctx.forms[slot] = build()
        ctx.form_owner[slot] = getattr(template.instance, "owner_id", None)
    form = copy.copy(template)  # shallow: the fields are shared, read-only while cleaning
    form.data = data
    form.files = {}
    form.is_bound = True
    form._errors = None
    form._bound_fields_cache = {}
    form.instance = template._meta.model()
    if ctx.form_owner[slot] is not None:
        form.instance.owner_id = ctx.form_owner[slot]
    form.__dict__.pop("cleaned_data", None)
    return form


def _form_errors(row: Row, form, ctx: Context, prefix: str):
    said = {column for column, _m in row.errors}  # a cell already refused says why once
    for name, messages in form.errors.items():
        if name == "allow_duplicate":
            continue
        full = f"{prefix}_{name}" if prefix else name
        column = ctx.column_of.get(full) or (ctx.fields[full].label if full in ctx.fields else
                                              (_("row") if name == "__all__" else name))
        if column in said:
            continue
        said.add(column)
        row.error(column, messages[0])  # the first reason of a cell (a blank name: "required", not twice)


# --- running ----------------------------------------------------------------------------------------

def table_of(job: ImportJob) -> readers.Table:
    from .files import path_of

    table = readers.Table(path=str(path_of(job)), format=job.format, encoding=job.encoding,
                          delimiter=job.delimiter, header_line=job.header_line, headers=list(job.headers))
    return table


class ErrorFile:
    """The rows with a reason: the original cells plus a column saying what is wrong (CSV in
    UTF-8 with BOM for a CSV upload, else XLSX)."""

    def __init__(self, job: ImportJob):
        from .files import imports_dir

        self.job = job
        self.format = "csv" if job.format == "csv" else "xlsx"
        self.name = f"{job.pk}-errors.{self.format}"
        self.path = imports_dir() / self.name
        self.count = 0
        header = [_("Line"), *job.headers, _("Reason")]
        if self.format == "csv":
            self.fh = open(self.path, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
            self.writer = csv.writer(self.fh)
            self.writer.writerow(header)
        else:
            import xlsxwriter

            self.book = xlsxwriter.Workbook(str(self.path), {"constant_memory": True, "strings_to_formulas": False,
                                                             "tmpdir": str(self.path.parent)})
            self.sheet = self.book.add_worksheet(_("Errors")[:31])
            self.sheet.write_row(0, 0, header)

    def add(self, row: Row, reason: str):
        from kehu.core.export import safe_cell

        self.count += 1
        cells = [row.line] + [readers.cell_text(v) for v in row.cells] + [reason]
        if self.format == "csv":
            self.writer.writerow([cells[0]] + [safe_cell(c) for c in cells[1:]])
        else:
            self.sheet.write_row(self.count, 0, [cells[0]] + [safe_cell(c) for c in cells[1:]])

    def close(self):
        if self.format == "csv":
            self.fh.close()
        else:
            self.book.close()
        if not self.count:
            self.path.unlink(missing_ok=True)


class FileKeys:
    """The keys (phone, e-mail, name...) of the rows read so far, with the first line of each: in a
    small SQLite file beside the upload, not in memory (a million rows' keys would be ~300 MB of
    Python dicts), asked once per batch."""

    def __init__(self, job: ImportJob):
        import sqlite3

        from .files import imports_dir

        self.path = imports_dir() / f"{job.pk}-{time.monotonic_ns()}.keys"
        self.db = sqlite3.connect(self.path)
        self.db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-8000;"
                              "CREATE TABLE k (key TEXT PRIMARY KEY, line INTEGER) WITHOUT ROWID;")

    def first_lines(self, keys) -> dict:
        keys = list(dict.fromkeys(keys))
        found = {}
        for start in range(0, len(keys), 500):
            part = keys[start:start + 500]
            sql = f"SELECT key, line FROM k WHERE key IN ({','.join('?' * len(part))})"
            found.update(self.db.execute(sql, part).fetchall())
        return found

    def add(self, pairs) -> None:
        self.db.executemany("INSERT OR IGNORE INTO k VALUES (?, ?)", pairs)

    def close(self) -> None:
        self.db.close()
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass


def _key_text(key) -> str:
    return "\x1f".join(str(part) for part in key)


class Progress:
    """Called after each batch: about once a second the counts go to a small side file (read by the
    progress page and the API, and the heartbeat `cleanup` looks at) and, outside an
    all-or-nothing transaction, to the job's row. The side file is needed because an all-or-nothing
    import is one transaction: on SQLite it holds the database's write lock, on PostgreSQL the
    job's row would stay locked; neither may be written from outside until it ends. A cancel is
    seen through the job's row or a cancel file (`files.request_cancel`)."""

    def __init__(self, job: ImportJob, *, in_transaction: bool = False):
        self.job = job
        self.in_transaction = in_transaction
        self.last = time.monotonic()
        self.started = timezone.now()

    def __call__(self, counts: dict, force=False):
        now = time.monotonic()
        if not force and now - self.last < PROGRESS_SECONDS:
            return
        self.last = now
        from . import files

        files.write_progress(self.job, {**counts, "at": timezone.now().isoformat()})
        if files.cancel_requested(self.job):
            raise Cancelled
        if self.in_transaction:
            if ImportJob.objects.filter(pk=self.job.pk).exclude(status=ImportJob.Status.RUNNING).exists():
                raise Cancelled
            return
        if not ImportJob.objects.filter(pk=self.job.pk, status=ImportJob.Status.RUNNING).update(
                progress_at=timezone.now(), **counts):
            raise Cancelled


def run(job: ImportJob, *, dry_run: bool, progress=None) -> dict:
    """Check (dry_run) or import the job's file. Returns the counts; an all-or-nothing import
    with a bad row raises Abort after rolling back."""
    importer = base.get(job.record_type)
    ctx = Context(job, importer, dry_run)
    table = table_of(job)
    errors_file = ErrorFile(job)
    counts = {"rows_done": 0, "created": 0, "updated": 0, "skipped": 0, "failed_rows": 0, "duplicate_rows": 0}
    report_errors, report_dups = [], []
    seen = FileKeys(job)
    resume = 0 if dry_run else job.resume_line
    if resume:  # a restarted import: the committed batches count
        counts.update({k: getattr(job, k) for k in ("created", "updated", "skipped", "failed_rows",
                                                     "duplicate_rows")})
    all_or_nothing = job.mode == ImportJob.Mode.ALL and not dry_run
    outer = transaction.atomic() if all_or_nothing else _nothing()
    try:
        with outer:
            for batch in batches(table, ctx):
                counts["rows_done"] += len(batch)
                if resume and batch[-1].line <= resume:
                    _remember_keys(batch, importer, seen, ctx)  # rows of committed batches: still in the file
                    continue
                process_batch(batch, ctx, seen)
                for row in batch:
                    if row.errors:
                        counts["failed_rows"] += 1
                        reason = "; ".join(f"{c}: {m}" for c, m in row.errors)
                        errors_file.add(row, reason)
                        for c, m in row.errors:
                            if len(report_errors) < REPORT_LIMIT:
                                report_errors.append({"line": row.line, "column": c, "message": m})
                    if row.existing or row.dup_line:
                        counts["duplicate_rows"] += 1
                        if len(report_dups) < REPORT_LIMIT:
                            report_dups.append(_dup_report(row))
                    if row.action == "skip":
                        counts["skipped"] += 1
                if all_or_nothing and counts["failed_rows"]:
                    raise Abort
                if not dry_run:
                    creates = [r for r in batch if r.action == "create"]
                    updates = [r for r in batch if r.action == "update"]
                    with transaction.atomic():
                        created, before = importer.write(creates, updates, ctx) if (creates or updates) else ([], [])
                        for label, ids in _group(created):
                            ImportBatch.objects.create(job=job, model=label, created=ids)
                        if before:
                            ImportBatch.objects.create(job=job, model=importer.model._meta.label_lower, before=before)
                        counts["created"] += len(creates)
                        counts["updated"] += len(updates)
                        if not all_or_nothing:  # what is committed: a restart after a crash goes on after it
                            ImportJob.objects.filter(pk=job.pk).update(resume_line=batch[-1].line, **counts)
                else:
                    counts["created"] += sum(1 for r in batch if r.action == "create")
                    counts["updated"] += sum(1 for r in batch if r.action == "update")
                if progress is not None:
                    progress(counts)
    finally:
        errors_file.close()
        seen.close()
    unknown = ctx.unknown
    return {"counts": counts, "errors": report_errors, "duplicates": report_dups, "unknown": unknown,
            "errors_file": errors_file.name if errors_file.count else ""}


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _group(created):
    """`write` returns ids, or (model label, ids) pairs for several models."""
    if created and isinstance(created[0], tuple):
        return created
    return [("main", list(created))] if created else []


def _dup_report(row: Row) -> dict:
    if row.existing:
        pk, label, reasons, visible = row.existing
        return {"line": row.line, "id": pk if visible else None, "label": label, "reasons": reasons,
                "action": row.action}
    return {"line": row.line, "id": None, "label": _("line %(line)s of this file") % {"line": row.dup_line},
            "reasons": [], "action": row.action}


def batches(table: readers.Table, ctx: Context):
    """The file's rows in batches of the importer's `batch_size`. A grouped importer's record (an
    order and its lines: rows whose `group_key` follows the row above's) is never split between
    two batches: a batch ends where a record does."""
    importer = ctx.importer
    rows = table.rows()
    if not importer.grouped:
        while True:
            chunk = list(itertools.islice(rows, importer.batch_size))
            if not chunk:
                return
            yield [Row(line, cells) for line, cells in chunk]
    batch: list[Row] = []
    key, first = None, None
    for line, cells in rows:
        new_key = importer.group_key(cells, key, ctx)
        if first is None or new_key != key:
            if len(batch) >= importer.batch_size:
                yield batch
                batch = []
            first = line
        key = new_key
        batch.append(Row(line, cells, group=first))
    if batch:
        yield batch


def join_groups(batch: list[Row], ctx: Context) -> list[Row]:
    """A grouped importer's records: each row's first row (`head`), the further rows (`parts`)
    joined to it by the importer (their record-level cells checked against the first row's).
    Returns the first rows."""
    heads: dict[int, Row] = {}
    for row in batch:
        head = heads.get(row.group)
        if head is None:
            heads[row.group] = row
            continue
        row.head = head
        head.parts.append(row)
        ctx.importer.join_group(head, row, ctx)
    return list(heads.values())


def settle_groups(heads: list[Row], ctx: Context) -> None:
    """A record of several rows is imported whole or not at all: its first row's action is the
    record's (its further rows are `part` of it); a bad row makes every row of the record bad (all
    of them go to the error file, to be corrected and imported together). The importer checks the
    whole record last (`validate_group`: an order's lines against its services)."""
    importer = ctx.importer
    for head in heads:
        rows = [head, *head.parts]
        if head.dup_line and not head.errors:  # its key is a record of earlier rows: not together
            head.error(_("row"), importer.apart_message(head.dup_line))
            head.dup_line = None
        if head.action in ("create", "update") and not any(r.errors for r in rows):
            importer.validate_group(head, ctx)
        bad = next((r for r in rows if r.errors), None)
        for row in rows:
            if bad is not None:
                row.action = "error"
                if not row.errors:
                    row.error(_("row"), importer.group_error_message(bad.line))
            elif row is not head:
                row.action = "part"


def _remember_keys(batch, importer, seen: FileKeys, ctx):
    """The keys of rows a restarted import has committed already (their forms bound again)."""
    pairs = []
    ctx.batch_no += 1
    for row in batch:
        coerce_row(row, ctx)
    if importer.grouped:
        join_groups(batch, ctx)
    for row in batch:
        validate(row, ctx)
        if not row.errors and row.head is None:
            pairs += [(_key_text(k), row.line) for k in importer.within_file_keys(row)]
    seen.add(pairs)


def process_batch(batch: list[Row], ctx: Context, seen: FileKeys) -> None:
    """Coerce, validate, match duplicates and decide each row's action."""
    importer = ctx.importer
    ctx.batch_no += 1
    for row in batch:
        coerce_row(row, ctx)
    heads = join_groups(batch, ctx) if importer.grouped else None
    importer.resolve_refs([r for r in batch if r.refs], ctx)
    for row in batch:
        validate(row, ctx)
    good = [r for r in batch if not r.errors and r.head is None]
    importer.find_existing(good, ctx)
    policy = ctx.job.duplicates
    if importer.unique_key and policy == ImportJob.Duplicates.CREATE:
        policy = ImportJob.Duplicates.SKIP  # a unique code cannot be created twice
    row_keys = {id(row): [_key_text(k) for k in importer.within_file_keys(row)] for row in good}
    earlier = seen.first_lines(k for keys in row_keys.values() for k in keys)  # lines of earlier batches
    here: dict = {}
    for row in batch:
        if row.head is not None:
            continue  # a further row of a record: its first row decides (settle_groups)
        if row.errors:
            row.action = "error"
            continue
        keys = row_keys[id(row)]
        first = next((earlier.get(k) or here.get(k) for k in keys if k in earlier or k in here), None)
        for k in keys:
            here.setdefault(k, row.line)
        if row.existing and first is not None and policy == ImportJob.Duplicates.UPDATE:
            row.dup_line = first  # an earlier row of the file updates that record: this one is left out
            row.action = "skip"
        elif row.existing:
            pk, _label, _reasons, visible = row.existing
            if policy == ImportJob.Duplicates.CREATE:
                row.action = "create"
            elif policy == ImportJob.Duplicates.UPDATE and visible:
                row.existing_obj = importer.model._base_manager.get(pk=pk)
                before_errors = len(row.errors)
                row.form = None
                validate(row, ctx, instance=importer.model._base_manager.get(pk=pk))
                row.action = "update" if len(row.errors) == before_errors else "error"
            else:
                row.action = "skip"
        elif first is not None:
            row.dup_line = first
            row.action = "create" if policy == ImportJob.Duplicates.CREATE else "skip"
        else:
            row.action = "create"
    if heads is not None:
        settle_groups(heads, ctx)
    seen.add(list(here.items()))
