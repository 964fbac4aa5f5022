"""Export of any list (with its filters) to CSV and XLSX, fast and safe against formula injection.

Rows are read as `values_list` tuples in keyset batches over the primary key (`WHERE pk > last
ORDER BY pk LIMIT n`: the list's filter runs once per batch as SQL, memory stays flat), never as
model instances. Dictionary values come from the in-memory cache (kehu/core/dictionary.py), choices
from the field's declaration, other foreign keys (owner, customer) from one `in_bulk` per batch for
the ids not seen yet, tags from one query per batch.

Small exports stream from the list view (`csv_response`, `xlsx_response`); above
KEHU_EXPORT_SYNC_ROWS they run as a background job (kehu/core/exports_jobs.py) that calls
`write_csv` / `write_xlsx` into a file.

Money (a MoneyField column, kind MONEY): XLSX writes the Decimal's own digits into the cell
(`<v>1234.50</v>`, never through a binary float) with the number format `#,##0.00`; an amount of
more than 15 significant digits, which Excel would round when it reads the file, is written as
text with its exact digits instead (docs/decisions.md). CSV writes the Decimal's string, "1234.50".
Other decimals are written with `{:.16G}`, as xlsxwriter's `write_number` does. XLSX data rows are written as sheet XML directly (the
same bytes xlsxwriter writes for those cells, ~2.5x faster); xlsxwriter writes the rest.
"""

from __future__ import annotations

import csv
import datetime
import io
import math
import os
import re
import uuid
from decimal import Decimal
from operator import itemgetter
from pathlib import Path

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
BATCH = 5000  # rows per keyset query
CHUNK = BATCH  # the old name
LABEL_CACHE_MAX = 50_000  # foreign-key labels kept between batches (owners repeat; customers may not)


def safe_cell(value) -> str:
    """Spreadsheet programs run cells that start with = + - @ as formulas: neutralise them."""
    text = cell_text(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def safe_text(text) -> str:
    """safe_cell for a value known to be a str or None (the fast path of text columns)."""
    if not text:
        return ""
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if timezone.is_aware(value) else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return ", ".join(cell_text(v) for v in value)
    return str(value)


def exports_dir() -> Path:
    """Where export files live: MEDIA_ROOT/exports (settings.KEHU_EXPORT_DIR overrides)."""
    path = Path(getattr(settings, "KEHU_EXPORT_DIR", "") or Path(settings.MEDIA_ROOT) / "exports")
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- reading rows ------------------------------------------------------------------------------

TEXT, NUMBER, BOOL, DATE, DATETIME, OTHER = "text", "number", "bool", "date", "datetime", "other"
MONEY = "money"  # a MoneyField: exact digits, `#,##0.00` in XLSX
MONEY_FORMAT = "#,##0.00"
EXCEL_DIGITS = 15  # Excel keeps 15 significant digits of a number


class Plan:
    """How to read a list of export columns from `values_list` rows.

    `kinds[i]` is the type of column i's values (text, number, bool, date, datetime, other) and
    `getters[i](row)` its value; `fields` are the names given to `values_list` (the pk first).
    """

    def __init__(self, model, columns):
        from . import dictionary
        from .models import DictItem

        self.model = model
        self.columns = list(columns)
        self.fields: list[str] = ["pk"]
        self.kinds: list[str] = []
        self.getters: list = []
        self.fk_labels: list[tuple[int, type[models.Model], dict]] = []  # (row index, model, {id: label})
        self.tags: dict | None = None
        self.dictionary = dictionary
        self.DictItem = DictItem
        self.objects_needed = False
        self.dict_columns: list[int] = []  # row indexes of dictionary values
        self.dict_labels: dict = {}  # {DictItem id: label}, built once per cache generation, not per cell
        self._dict_items = None
        self.lines = None  # an export of one row per child (`RecordType.export_lines`): (fk, child Plan)
        own, children = self.columns, []
        spec = _export_lines(model)
        if spec is not None:
            own = [c for c in self.columns if not c.name.startswith(spec.prefix)]
            children = [c for c in self.columns if c.name.startswith(spec.prefix)]
            self.columns = own + children  # the record's columns first, then its children's
        for col in own:
            kind, getter = self._column(col)
            self.kinds.append(kind)
            self.getters.append(getter)
        if children:
            child_model, fk = spec.relation_of(model)
            child = Plan(child_model, [type(c)(c.name[len(spec.prefix):], c.label) for c in children])
            if child.objects_needed or self.objects_needed:
                raise ValueError("an export of children reads fields, not objects")
            child._index(fk.attname)
            self.kinds += child.kinds
            self.lines = (fk, child)

    def _index(self, name: str) -> int:
        if name not in self.fields:
            self.fields.append(name)
        return self.fields.index(name)

    def _column(self, col):
        name = col.name
        if col.accessor is not None and name != "tags":
            self.objects_needed = True
            return OTHER, None
        if name == "tags":
            self.tags = {}
            tags = self.tags
            return TEXT, lambda row: ", ".join(tags.get(row[0], ()))
        if name.startswith("cf_"):
            i, key = self._index("custom_fields"), name[3:]
            return OTHER, lambda row: (row[i] or {}).get(key)
        try:
            field = self._field(name)
        except FieldDoesNotExist:
            self.objects_needed = True
            return OTHER, None
        if field.many_to_many or field.one_to_many:
            self.objects_needed = True
            return OTHER, None
        if field.is_relation:
            i = self._index(field.attname if "__" not in name else name)
            if field.related_model is self.DictItem:
                self.dict_columns.append(i)
                dict_labels = self.dict_labels
                return TEXT, lambda row: dict_labels.get(row[i], "")
            labels: dict = {}
            self.fk_labels.append((i, field.related_model, labels))
            return TEXT, lambda row: labels.get(row[i], "") if row[i] is not None else ""
        i = self._index(name)
        if field.choices:
            choices = {k: str(v) for k, v in field.flatchoices}
            return TEXT, lambda row: choices.get(row[i], row[i]) if row[i] not in (None, "") else ""
        return _kind(field), itemgetter(i)

    def _field(self, name: str):
        model, field = self.model, None
        for part in name.split("__"):
            field = model._meta.get_field(part)
            if field.is_relation and field.related_model is not None:
                model = field.related_model
        return field

    def prepare_batch(self, batch: list[tuple]) -> None:
        """Fill the labels of this batch's foreign keys and tags: one query each at most."""
        if self.dict_columns:
            items = self.dictionary.items_by_id()
            if {row[i] for i in self.dict_columns for row in batch} - items.keys() - {None}:
                self.dictionary._cache["at"] = 0.0  # created since the cache was filled
                items = self.dictionary.items_by_id()
            if items is not self._dict_items:
                self.dict_labels.clear()
                self.dict_labels.update({pk: str(item) for pk, item in items.items()})
                self._dict_items = items
        for i, model, labels in self.fk_labels:
            missing = {row[i] for row in batch if row[i] is not None} - labels.keys()
            if missing:
                if len(labels) + len(missing) > LABEL_CACHE_MAX:
                    labels.clear()
                for pk, obj in model._default_manager.in_bulk(list(missing)).items():
                    labels[pk] = str(obj)
        if self.tags is not None:
            from .models import tags_by_id

            self.tags.clear()
            self.tags.update(tags_by_id(self.model, [row[0] for row in batch], names=True))

    def batches(self, queryset, batch_size: int | None = None):
        """Lists of value rows (one per column, in column order), in keyset batches over the pk."""
        batch_size = batch_size or BATCH
        if self.objects_needed:
            yield from self._object_batches(queryset, batch_size)
            return
        base = queryset.select_related(None).prefetch_related(None).order_by("pk").values_list(*self.fields)
        getters = self.getters
        last = None
        while True:
            batch = list((base.filter(pk__gt=last) if last is not None else base)[:batch_size])
            if not batch:
                return
            self.prepare_batch(batch)
            values = [[g(row) for g in getters] for row in batch]
            yield self._with_children(batch, values) if self.lines is not None else values
            if len(batch) < batch_size:
                return
            last = batch[-1][0]

    def _with_children(self, batch, values) -> list[list]:
        """Each record's row followed by its children's: the record's cells on its first child's row
        (the rows after it continue the record, as its import reads them), one query for the batch."""
        fk, child = self.lines
        key = child.fields.index(fk.attname)
        ordering = [fk.attname, *(child.model._meta.ordering or ["pk"])]
        rows = list(child.model._default_manager.filter(**{f"{fk.attname}__in": [r[0] for r in batch]})
                    .order_by(*ordering).values_list(*child.fields))
        child.prepare_batch(rows)
        by_record: dict = {}
        for row in rows:
            by_record.setdefault(row[key], []).append([g(row) for g in child.getters])
        blank_record, blank_child = [None] * len(self.getters), [None] * len(child.getters)
        out = []
        for row, record in zip(batch, values, strict=True):
            cells = by_record.get(row[0]) or [blank_child]
            out.append(record + cells[0])
            out += [blank_record + more for more in cells[1:]]
        return out

    def _object_batches(self, queryset, batch_size):
        """Columns that are not fields (an accessor, a property): model instances, as before."""
        from .registry import registry

        rt = registry.for_model(self.model)
        base = queryset.order_by("pk")
        last = None
        while True:
            chunk = list((base.filter(pk__gt=last) if last is not None else base)[:batch_size])
            if not chunk:
                return
            if rt is not None:
                rt.prepare(chunk)
            yield [[col.value(obj) for col in self.columns] for obj in chunk]
            if len(chunk) < batch_size:
                return
            last = chunk[-1].pk


def _export_lines(model):
    """The model's record type's `export_lines` declaration, if any."""
    from .registry import registry

    rt = registry.for_model(model)
    return getattr(rt, "export_lines", None)


def _kind(field) -> str:
    from .money import MoneyField

    if isinstance(field, models.BooleanField):
        return BOOL
    if isinstance(field, MoneyField):
        return MONEY
    if isinstance(field, (models.IntegerField, models.DecimalField, models.FloatField, models.AutoField)):
        return NUMBER
    if isinstance(field, models.DateTimeField):
        return DATETIME
    if isinstance(field, models.DateField):
        return DATE
    if isinstance(field, (models.CharField, models.TextField)):
        return TEXT
    return OTHER


def rows_of(queryset, columns, prepare=None):
    """Each row's values, in column order (kept for callers of the old API)."""
    for batch in Plan(queryset.model, columns).batches(queryset):
        yield from batch


# --- CSV ---------------------------------------------------------------------------------------

def _csv_formatters(kinds):
    tz = timezone.get_current_timezone()

    def number(v):
        return "" if v is None else str(v)

    def money(v):
        return "" if v is None else f"{v:f}"  # the Decimal's digits: "1234.50"

    def boolean(v):
        return "" if v is None else ("1" if v else "0")

    def date(v):
        return "" if v is None else v.isoformat()

    def dt(v):
        if v is None:
            return ""
        return (v.astimezone(tz) if v.tzinfo else v).strftime("%Y-%m-%d %H:%M")

    by_kind = {TEXT: safe_text, NUMBER: number, MONEY: money, BOOL: boolean, DATE: date, DATETIME: dt,
               OTHER: safe_cell}
    return [by_kind[k] for k in kinds]


def csv_chunks(queryset, columns, progress=None):
    """The CSV as text chunks (one per batch): a BOM, the header, the rows."""
    plan = Plan(queryset.model, columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")  # BOM: Excel opens UTF-8 Chinese text correctly
    writer.writerow([safe_text(str(c.label)) for c in plan.columns])
    yield buffer.getvalue()
    formatters = _csv_formatters(plan.kinds) if not plan.objects_needed else [safe_cell] * len(plan.columns)
    done = 0
    for batch in plan.batches(queryset):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([[f(v) for f, v in zip(formatters, row, strict=False)] for row in batch])
        done += len(batch)
        yield buffer.getvalue()
        if progress is not None:
            progress(done)


def write_csv(path, queryset, columns, progress=None) -> int:
    """Write the CSV to `path` (UTF-8 with BOM); returns the number of rows."""
    rows = 0

    def counting(done):
        nonlocal rows
        rows = done
        if progress is not None:
            progress(done)

    with open(path, "w", encoding="utf-8", newline="") as fh:
        for chunk in csv_chunks(queryset, columns, counting):
            fh.write(chunk)
    return rows


def csv_response(queryset, columns, filename: str, prepare=None):
    response = StreamingHttpResponse(csv_chunks(queryset, columns), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


# --- XLSX --------------------------------------------------------------------------------------

XLSX_MAX_ROWS = 1_048_576  # Excel's limit, the header included


_XML_SPECIAL = re.compile(r"[\x00-\x08\x0b-\x1f&<>\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
_EXCEL_EPOCH = datetime.datetime(1899, 12, 31)
_EXCEL_LEAP_BUG = datetime.datetime(1900, 3, 2)  # before: xlsxwriter's own conversion (1900 quirks)
_XLSX_STRMAX = 32767  # UTF-16 units in a cell


def _xml_text(s: str) -> str:
    """A string as xlsxwriter's constant-memory mode writes it into `<t>`: truncated to 32,767 UTF-16
    units, control characters as `_xHHHH_` (a literal `_xHHHH_` escaped as `_x005F_xHHHH_`),
    & < > as entities. (xlsxwriter writes a text of the form `<r>…</r>` unescaped, as rich text;
    here it is text like any other, so a customer name cannot inject XML into the sheet.)"""
    from xlsxwriter.utility import _utf16_len, _utf16_truncate
    from xlsxwriter.xmlwriter import re_control_chars_1, re_control_chars_2

    if len(s) > _XLSX_STRMAX // 2 and _utf16_len(s) > _XLSX_STRMAX:
        s = _utf16_truncate(s, _XLSX_STRMAX)
    if _XML_SPECIAL.search(s):
        s = re_control_chars_1.sub(r"_x005F\1", s)
        s = re_control_chars_2.sub(lambda m: f"_x{ord(m.group(1)):04X}_", s)
        s = s.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
        s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return s


def _excel_serial(d: datetime.datetime) -> str:
    """A naive datetime as Excel's serial number, formatted as xlsxwriter writes it (`{:.16G}`)."""
    if d < _EXCEL_LEAP_BUG:
        from xlsxwriter.utility import _datetime_to_excel_datetime

        return f"{_datetime_to_excel_datetime(d, False, False):.16G}"
    delta = d - _EXCEL_EPOCH
    return f"{delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400 + 1:.16G}"


def money_digits(value: Decimal) -> str | None:
    """The digits an XLSX number cell holds for an amount (`1234.50`, never an exponent), or None
    when Excel could not hold them: more than 15 significant digits."""
    text = f"{value:f}"
    significant = text.lstrip("-").replace(".", "").lstrip("0")
    return text if len(significant) <= EXCEL_DIGITS else None


def _cell_writers(kinds, date_fmt, dt_fmt, objects_needed: bool, money_fmt=None):
    """Per column, a function (row number as text, value) -> the cell's XML ("" for no cell).

    The XML is byte for byte what xlsxwriter's `write_string` / `write_number` / `write_boolean` /
    `write_datetime` produce in constant-memory mode (the test compares the two), built directly:
    xlsxwriter's per-cell path (type checks, dimension bookkeeping, a cell tuple, attribute lists)
    cost ~4x the rest of the export. The kind of each column is decided once, not per cell."""
    from xlsxwriter.utility import xl_col_to_name

    tz = timezone.get_current_timezone()
    dates: dict = {}  # date -> serial text (dates repeat)
    isfinite = math.isfinite
    special = _XML_SPECIAL.search

    def xf(fmt) -> int:  # xlsxwriter numbers a format when a cell first uses it: same order here
        return fmt.xf_index if fmt.xf_index is not None else fmt._get_xf_index()

    def make(kind, ref):
        def string(rn, s):
            t = _xml_text(s) if len(s) > 16383 or _XML_SPECIAL.search(s) else s
            if t and (t[0].isspace() or t[-1].isspace()):
                return f'<c r="{ref}{rn}" t="inlineStr"><is><t xml:space="preserve">{t}</t></is></c>'
            return f'<c r="{ref}{rn}" t="inlineStr"><is><t>{t}</t></is></c>'

        def text(rn, v):  # string() inlined: the innermost loop
            if not v:
                return ""
            if v.__class__ is not str:
                return string(rn, safe_cell(v))
            if v.startswith(FORMULA_PREFIXES):  # written as text, never a formula; also safe in a CSV save
                v = "'" + v
            if v[0].isspace() or v[-1].isspace() or len(v) > 16383:  # xml:space, or a cut at 32,767
                return string(rn, v)
            if special(v):
                v = _xml_text(v)
            return f'<c r="{ref}{rn}" t="inlineStr"><is><t>{v}</t></is></c>'

        def number(rn, v):
            if v is None:
                return ""
            if v.__class__ is float and not isfinite(v):
                raise TypeError("NAN/INF not supported in write_number() without 'nan_inf_to_errors' Workbook() option")
            return f'<c r="{ref}{rn}"><v>{v:.16G}</v></c>'  # a Decimal is formatted exactly, not through float

        def money(rn, v):
            if v is None:
                return ""
            digits = money_digits(v)
            if digits is None:  # Excel would round it: the exact digits as text
                return string(rn, f"{v:f}")
            return f'<c r="{ref}{rn}" s="{xf(money_fmt)}"><v>{digits}</v></c>'

        def boolean(rn, v):
            if v is None:
                return ""
            return f'<c r="{ref}{rn}" t="b"><v>{1 if v else 0}</v></c>'

        def date(rn, v):
            if v is None:
                return ""
            serial = dates.get(v)
            if serial is None:
                if len(dates) > 100_000:
                    dates.clear()
                serial = dates[v] = _excel_serial(datetime.datetime(v.year, v.month, v.day))
            return f'<c r="{ref}{rn}" s="{xf(date_fmt)}"><v>{serial}</v></c>'

        def dt(rn, v):
            if v is None:
                return ""
            local = (v.astimezone(tz) if v.tzinfo else v).replace(tzinfo=None)
            return f'<c r="{ref}{rn}" s="{xf(dt_fmt)}"><v>{_excel_serial(local)}</v></c>'

        def other(rn, v):
            if v is None or v == "":
                return ""
            if isinstance(v, bool):
                return boolean(rn, v)
            if isinstance(v, (int, float, Decimal)):
                return number(rn, v)
            if isinstance(v, datetime.datetime):
                return dt(rn, v)
            if isinstance(v, datetime.date):
                return date(rn, v)
            return string(rn, safe_cell(v))

        return {TEXT: text, NUMBER: number, MONEY: money, BOOL: boolean, DATE: date, DATETIME: dt,
                OTHER: other}[kind]

    return [make(OTHER if objects_needed else kind, xl_col_to_name(c)) for c, kind in enumerate(kinds)]


def write_xlsx(path, queryset, columns, sheet_name: str = "Export", progress=None) -> int:
    """Write the workbook to `path` with xlsxwriter's constant-memory mode (the sheet's XML goes to a
    temporary file in the same directory, one batch of rows in memory); returns the number of rows.

    The header and the workbook's other parts are xlsxwriter's; the data rows' XML is written by
    `_cell_writers` into the sheet's row-data file, exactly as xlsxwriter would write those cells."""
    import xlsxwriter

    plan = Plan(queryset.model, columns)
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "tmpdir": str(Path(path).parent),
                                               "strings_to_formulas": False, "strings_to_urls": False,
                                               "strings_to_numbers": False, "use_zip64": True})
    try:
        sheet = workbook.add_worksheet(sheet_name[:31])
        bold = workbook.add_format({"bold": True})
        date_fmt = workbook.add_format({"num_format": "yyyy-mm-dd"})
        dt_fmt = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        money_fmt = workbook.add_format({"num_format": MONEY_FORMAT})
        for c, col in enumerate(plan.columns):
            sheet.write_string(0, c, str(col.label), bold)
            sheet.set_column(c, c, 18)
        # the rows' XML goes straight after the header's, into xlsxwriter's row-data file
        sheet._write_single_row(1)
        cells = _cell_writers(plan.kinds, date_fmt, dt_fmt, plan.objects_needed, money_fmt)
        r = last = 0
        for batch in plan.batches(queryset):
            if r + len(batch) >= XLSX_MAX_ROWS:
                raise ValueError(f"More than {XLSX_MAX_ROWS - 1:,} rows do not fit in one XLSX sheet; use CSV.")
            xml = []
            for row in batch:
                r += 1
                rn = str(r + 1)
                body = "".join([cell(rn, v) for cell, v in zip(cells, row, strict=False)])
                if body:  # xlsxwriter writes no <row> for a row without cells
                    xml.append(f'<row r="{rn}">{body}</row>')
                    last = r
            sheet.fh.write("".join(xml))
            if progress is not None:
                progress(r)
        if last:
            sheet.dim_rowmax = max(sheet.dim_rowmax or 0, last)
        sheet.previous_row = r + 1  # nothing left for xlsxwriter to flush at close
    finally:
        workbook.close()
    return r


def xlsx_response(queryset, columns, filename: str, prepare=None):
    """A small export, written to a file in the exports directory and sent (the file is unlinked
    at once: the open handle keeps its data until the response is sent)."""
    path = exports_dir() / f"tmp-{uuid.uuid4().hex}.xlsx.part"
    try:
        write_xlsx(path, queryset, columns, filename)
        handle = open(path, "rb")  # noqa: SIM115 - FileResponse closes it
    finally:
        if path.exists():
            os.unlink(path)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=f"{filename}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
