"""Reading an uploaded table: .xlsx (openpyxl, read-only, streamed), .xls (xlrd), .csv / .txt
(encoding and delimiter detected). Every reader yields `(line number, [cell, ...])`, the line
number as the user sees it in their spreadsheet (1-based; a CSV record with a quoted newline keeps
the number of its first line), cells as str / int / float / datetime / date / bool / None.

`open_table(path)` finds the header row (the first row, within the first 30, that looks like a
header: at least two non-empty text cells and more filled cells than the rows above — title and
instruction rows above it are skipped) and fills merged header cells across (xlsx)."""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import itertools
from dataclasses import dataclass, field
from pathlib import Path

HEADER_SCAN = 30
SNIFF_BYTES = 256 * 1024

FORMATS = ("xlsx", "xls", "csv", "vcf")


class ReadError(Exception):
    """The file cannot be read as a table (the message is for the user)."""


def format_of(filename: str) -> str:
    ext = Path(filename).suffix.lower().lstrip(".")
    if ext in ("xlsx", "xlsm"):
        return "xlsx"
    if ext == "xls":
        return "xls"
    if ext in ("csv", "txt", "tsv"):
        return "csv"
    if ext in ("vcf", "vcard"):
        return "vcf"
    return ""


# --- encodings ------------------------------------------------------------------------------------

# tried in this order when charset-normalizer is unsure; GB18030 is a superset of GBK (and reads
# every GBK file), so a file both decode is read as GB18030
_FALLBACKS = ("utf-8", "gb18030", "big5", "cp1252")


def detect_encoding(sample: bytes) -> str:
    """The encoding of a CSV sample: a BOM first (UTF-8, UTF-16), then strict UTF-8, then
    charset-normalizer's best guess among the encodings Kehu's users send (GBK/GB18030, Big5,
    Windows-1252), GBK reported as GB18030."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if _looks_utf16(sample):
        return "utf-16-le" if sample[1:2] == b"\0" else "utf-16-be"
    try:
        _decode_prefix(sample, "utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(sample, cp_isolation=["gb18030", "gbk", "gb2312", "big5", "cp1252", "utf_8"]).best()
    guess = (best.encoding if best else "").lower().replace("_", "")
    if guess in ("gbk", "gb2312", "gb18030", "cp936"):
        return "gb18030"
    if guess in ("big5", "big5hkscs", "cp950"):
        # Big5 bytes often decode as GB18030 too; charset-normalizer has judged the text
        return "big5"
    if guess:
        return {"cp1252": "cp1252", "windows1252": "cp1252", "utf8": "utf-8"}.get(guess, best.encoding)
    for enc in _FALLBACKS:
        try:
            _decode_prefix(sample, enc)
            return enc
        except UnicodeDecodeError:
            continue
    return "cp1252"


def _looks_utf16(sample: bytes) -> bool:
    head = sample[:200]
    return len(head) >= 4 and (head[1::2].count(0) > len(head) // 4 or head[0::2].count(0) > len(head) // 4)


def _decode_prefix(sample: bytes, encoding: str) -> str:
    """Decode a sample that may end inside a multi-byte character."""
    decoder = codecs.getincrementaldecoder(encoding)()
    return decoder.decode(sample, final=False)


def detect_delimiter(text: str) -> str:
    """Comma, semicolon or tab: the one that splits the first lines into the most equal,
    non-trivial column counts (quotes respected)."""
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    best, best_score = ",", -1.0
    for delim in (",", ";", "\t", "|"):
        counts = [len(row) for row in csv.reader(lines, delimiter=delim)]
        wide = [c for c in counts if c > 1]
        if not wide:
            continue
        most = max(set(wide), key=wide.count)
        score = wide.count(most) * most + (0.5 if delim == "," else 0)
        if score > best_score:
            best, best_score = delim, score
    return best


# --- rows -----------------------------------------------------------------------------------------

def csv_rows(path, encoding: str, delimiter: str):
    with open(path, encoding=encoding, errors="replace", newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        line = 1
        for row in reader:
            yield line, row
            line = reader.line_num + 1


def xlsx_rows(path):
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # a corrupt or mislabelled file
        raise ReadError(str(exc)) from exc
    try:
        sheet = book.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(row)
    finally:
        book.close()


def xlsx_merged_header(path, header_line: int) -> dict[int, tuple[int, int]]:
    """{first column: (first, last column)} of the merged ranges that cross the header row
    (0-based columns). Read-only mode does not know merges: the sheet's XML is read for them."""
    import re
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
            if not names:
                return {}
            xml = z.read(sorted(names)[0]).decode("utf-8", "replace")
    except (zipfile.BadZipFile, KeyError):
        return {}
    from openpyxl.utils.cell import range_boundaries

    merged = {}
    for ref in re.findall(r'<mergeCell ref="([A-Z]+[0-9]+:[A-Z]+[0-9]+)"', xml):
        min_col, min_row, max_col, max_row = range_boundaries(ref)
        if min_row <= header_line <= max_row and max_col > min_col:
            merged[min_col - 1] = (min_col - 1, max_col - 1)
    return merged


def xls_rows(path):
    try:
        import xlrd
    except ImportError as exc:  # pragma: no cover - a dependency
        raise ReadError("xlrd is not installed") from exc
    try:
        book = xlrd.open_workbook(path, on_demand=True)
    except Exception as exc:
        raise ReadError(str(exc)) from exc
    try:
        sheet = book.sheet_by_index(0)
        for r in range(sheet.nrows):
            out = []
            for c in range(sheet.ncols):
                cell = sheet.cell(r, c)
                if cell.ctype == xlrd.XL_CELL_DATE:
                    try:
                        out.append(xlrd.xldate_as_datetime(cell.value, book.datemode))
                    except Exception:
                        out.append(cell.value)
                elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                    out.append(bool(cell.value))
                elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                    out.append(None)
                else:
                    out.append(cell.value)
            yield r + 1, out
        # merged header cells of .xls
    finally:
        book.release_resources()


def _filled(row) -> int:
    return sum(1 for v in row if v not in (None, "") and str(v).strip())


def _texts(row) -> int:
    return sum(1 for v in row if isinstance(v, str) and v.strip() and not _numberish(v))


def _numberish(s: str) -> bool:
    t = s.strip().replace(",", "").replace(".", "", 1)
    return t.isdigit()


def find_header(rows: list[tuple[int, list]]) -> int:
    """The index in `rows` of the header row: the first row with at least two text cells whose
    filled-cell count is the widest seen in the first rows (a title row has one cell, an
    instruction row one or two long ones)."""
    if not rows:
        return 0
    widest = max(_filled(r) for _n, r in rows)
    for i, (_n, row) in enumerate(rows):
        filled = _filled(row)
        if filled >= max(2, widest - 1) and _texts(row) >= max(2, filled // 2):
            return i
    return 0


@dataclass
class Table:
    """A table ready to be read: its header and where its data starts."""

    path: str
    format: str
    encoding: str = ""
    delimiter: str = ""
    header_line: int = 1  # 1-based line of the header
    headers: list[str] = field(default_factory=list)

    def rows(self):
        """(line, cells) of every data row after the header, blank rows skipped, cells padded or
        cut to the header's width (trailing empty columns dropped)."""
        width = len(self.headers)
        for line, row in _raw_rows(self):
            if line <= self.header_line:
                continue
            if not _filled(row):
                continue
            if len(row) < width:
                row = list(row) + [None] * (width - len(row))
            elif len(row) > width:
                row = list(row[:width])
            yield line, row

    def as_dict(self) -> dict:
        return {"format": self.format, "encoding": self.encoding, "delimiter": self.delimiter,
                "header_line": self.header_line, "headers": self.headers}


def _raw_rows(table: Table):
    if table.format == "xlsx":
        return xlsx_rows(table.path)
    if table.format == "xls":
        return xls_rows(table.path)
    if table.format == "vcf":  # vCard: a header row (line 0), then a row per card (kehu/core/imports/vcard.py)
        from . import vcard

        return vcard.rows(table.path, table.encoding)
    return csv_rows(table.path, table.encoding, table.delimiter)


def open_table(path, fmt: str, *, encoding: str = "", delimiter: str = "", header_line: int | None = None) -> Table:
    """Detect what is needed to read `path` and read its header."""
    table = Table(path=str(path), format=fmt)
    if fmt in ("csv", "vcf"):
        with open(path, "rb") as fh:
            sample = fh.read(SNIFF_BYTES)
        if not sample.strip():
            raise ReadError("empty")
        table.encoding = encoding or detect_encoding(sample)
        try:
            text = _decode_prefix(sample, table.encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ReadError(str(exc)) from exc
        if fmt == "vcf":
            if "BEGIN:VCARD" not in text.upper():
                raise ReadError("no BEGIN:VCARD")
            header_line = 0
        else:
            table.delimiter = delimiter or detect_delimiter(text)
    try:
        head = list(itertools.islice(_raw_rows(table), HEADER_SCAN))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ReadError(str(exc)) from exc
    if not head or (fmt == "vcf" and len(head) < 2):
        raise ReadError("empty")
    if header_line is None:
        index = find_header(head)
    else:
        index = next((i for i, (n, _r) in enumerate(head) if n == header_line), 0)
    table.header_line, header = head[index]
    header = [cell_text(v) for v in header]
    if fmt == "xlsx":
        for first, (lo, hi) in xlsx_merged_header(path, table.header_line).items():
            for col in range(lo + 1, hi + 1):
                if col < len(header) and not header[col]:
                    header[col] = header[first]
    while header and not header[-1]:  # trailing empty columns
        header.pop()
    table.headers = _unique(header)
    return table


def _unique(headers: list[str]) -> list[str]:
    """Repeated headers (a merged cell filled across: 电话, 电话) become 电话, 电话 (2)."""
    seen: dict[str, int] = {}
    out = []
    for h in headers:
        if h in seen and h:
            seen[h] += 1
            out.append(f"{h} ({seen[h]})")
        else:
            seen[h] = 1
            out.append(h)
    return out


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        return value.date().isoformat()
    return str(value).strip()


def preview(table: Table, n: int = 5) -> list[tuple[int, list[str]]]:
    return [(line, [cell_text(v) for v in row]) for line, row in itertools.islice(table.rows(), n)]


def count_rows(table: Table) -> int:
    return sum(1 for _ in table.rows())


def text_io(data: bytes, encoding: str) -> io.StringIO:  # tests
    return io.StringIO(data.decode(encoding))
