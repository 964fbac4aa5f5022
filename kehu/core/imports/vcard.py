"""Reading a .vcf file (vCard 2.1, 3.0, 4.0) as a table, so that cards go through the import
engine like spreadsheet rows: the same mapping screen, dry run, duplicates and undo.

Phones and mail clients write every version: 2.1 with QUOTED-PRINTABLE values (soft line breaks
included) and CHARSET=GBK / UTF-8 parameters (Android, older Nokia and Huawei exports), 3.0 with
`TYPE=CELL,VOICE` (iOS, Outlook, Gmail), 4.0 with `tel:` URIs, `PREF=1` and `data:` photos. The
parsing is vobject's (docs/decisions.md); this module splits the file into cards (streaming: a card
at a time, with the line of its BEGIN:VCARD as the row's line number), joins quoted-printable soft
line breaks (which vobject does not), and flattens each card into the columns of `HEADERS`:

- a card's first mobile (TYPE=CELL, else the first number that is a mobile by its digits) is
  `TEL (CELL)`, its first other number (fax excepted) `TEL`, the rest `TEL (other)`; e-mails the
  same way (the preferred one first);
- `ORG` is the organization, `ORG (department)` its units; FN or else N gives the name;
- a photo (binary, base64 or a `data:` URI; a remote URL is never fetched) is written beside the
  upload (`<upload>.photos/<sha1>.<ext>`) and its file name is the `PHOTO` cell.

The headers are vCard's property names: the `vcard` preset (kehu/core/imports/presets.py) maps them
to each importer's fields."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from pathlib import Path

HEADERS = ["FN", "ORG", "ORG (department)", "TITLE", "TEL (CELL)", "TEL", "TEL (other)", "EMAIL",
           "EMAIL (other)", "X-WECHAT", "GENDER", "BDAY", "ADR", "URL", "NOTE", "CATEGORIES", "PHOTO"]
COLUMN = {h: i for i, h in enumerate(HEADERS)}

PHOTO_TYPES = {"jpeg": "jpg", "jpg": "jpg", "png": "png", "gif": "gif", "webp": "webp", "bmp": "bmp"}
MAX_PHOTO_BYTES = 5 * 1024 * 1024

_BEGIN = re.compile(r"^\s*BEGIN\s*:\s*VCARD\s*$", re.IGNORECASE)
_END = re.compile(r"^\s*END\s*:\s*VCARD\s*$", re.IGNORECASE)
_QP = re.compile(r"^[^:]*QUOTED-PRINTABLE[^:]*:", re.IGNORECASE)
# GB18030 reads every GBK / GB2312 byte sequence (and the characters GBK lacks)
_CHARSETS = re.compile(r"CHARSET=(GBK|GB2312|CP936|GB_2312-80)\b", re.IGNORECASE)
_HEX = re.compile(r"^=[0-9A-Fa-f]{2}")
_MOBILE = re.compile(r"^(\+?86)?1[3-9]\d{9}$")


def looks_like_vcard(sample: bytes) -> bool:
    return b"BEGIN:VCARD" in sample[:4096].upper()


def cards(path, encoding: str):
    """(line of BEGIN:VCARD, the card's text) of every card in the file, read line by line."""
    with open(path, encoding=encoding, errors="replace", newline="") as fh:
        start, lines, in_qp = None, [], False
        for number, raw in enumerate(fh, start=1):
            line = raw.rstrip("\r\n")
            if number == 1:
                line = line.lstrip("\ufeff")
            if start is None:
                if _BEGIN.match(line):
                    start, lines, in_qp = number, [line], False
                continue
            if in_qp:  # after a quoted-printable soft line break ("=" at the end): the value goes on
                stripped = line.lstrip(" \t")
                lines[-1] = lines[-1][:-1] + (stripped if _HEX.match(stripped) else line)
                in_qp = line.endswith("=")
                continue
            if _END.match(line):
                lines.append(line)
                yield start, _CHARSETS.sub("CHARSET=GB18030", "\r\n".join(lines) + "\r\n")
                start, lines = None, []
                continue
            lines.append(line)
            in_qp = bool(_QP.match(line)) and line.endswith("=")


def rows(path, encoding: str):
    """The header row (line 0) and a row of cells per card."""
    import vobject

    photos = Path(str(path) + ".photos")
    yield 0, list(HEADERS)
    for line, text in cards(path, encoding):
        text, photo = _take_photo(text)
        try:
            card = vobject.readOne(text, ignoreUnreadable=True, allowQP=True)
        except Exception:  # a card vobject cannot read at all: its lines one by one
            card = _lenient(text)
        row = flatten(card) if card is not None else [""] * len(HEADERS)
        if photo is not None:
            row[COLUMN["PHOTO"]] = _save_photo(*photo, photos)
        yield line, row


_PHOTO = re.compile(r"^(?:[A-Za-z0-9-]+\.)?PHOTO([;:])", re.IGNORECASE)


def _take_photo(text: str):
    """The card without its PHOTO lines, and the first photo's (parameters, value): read here, not by
    vobject, which cuts a vCard 4.0 `data:` URI at its comma (and need not parse a large base64)."""
    logical: list[str] = []
    for ln in text.split("\r\n"):
        if ln[:1] in (" ", "\t") and logical:
            logical[-1] += ln[1:]
        else:
            logical.append(ln)
    photo, kept = None, []
    for ln in logical:
        m = _PHOTO.match(ln)
        if not m:
            kept.append(ln)
            continue
        if photo is None:
            head, _sep, value = ln.partition(":")
            params: dict[str, str] = {}
            for part in head.split(";")[1:]:
                key, eq, val = part.partition("=")
                if eq:
                    params[key.strip().upper()] = val.strip().strip('"')
                else:
                    params.setdefault("TYPE", part.strip())
            photo = (params, value)
    return "\r\n".join(kept), photo


def _lenient(text: str):
    """The lines of a broken card that can be read (a bad line is left out)."""
    import vobject

    keep = [ln for ln in text.split("\r\n") if ln]
    good = [keep[0]]
    for ln in keep[1:-1]:
        try:
            vobject.readOne("\r\n".join([keep[0], ln, keep[-1]]) + "\r\n", ignoreUnreadable=True, allowQP=True)
        except Exception:
            continue
        good.append(ln)
    try:
        return vobject.readOne("\r\n".join(good + [keep[-1]]) + "\r\n", ignoreUnreadable=True, allowQP=True)
    except Exception:
        return None


def _types(line) -> set[str]:
    out = {s.upper() for s in getattr(line, "singletonparams", ()) or ()}
    for value in (line.params.get("TYPE") or []):
        out |= {t.strip().strip('"').upper() for t in str(value).split(",") if t.strip()}
    if line.params.get("PREF"):
        out.add("PREF")
    return out


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        for enc in ("utf-8", "gb18030"):
            try:
                return value.decode(enc).strip()
            except UnicodeDecodeError:
                continue
        return value.decode("latin-1").strip()
    if isinstance(value, (list, tuple)):
        return " ".join(_text(v) for v in value if _text(v))
    return str(value).strip()


def _lines(card, name: str) -> list:
    return list(card.contents.get(name.lower(), []))


def _ordered(lines) -> list:
    """Preferred first, else as written."""
    return sorted(lines, key=lambda ln: "PREF" not in _types(ln))


def _phone(value) -> str:
    text = _text(value)
    if text.lower().startswith("tel:"):
        text = text[4:]
    return text.split(";", 1)[0].strip()  # tel:+86...;ext=12


def _digits(phone: str) -> str:
    return re.sub(r"[\s\-().]", "", phone)


def flatten(card) -> list:
    row = [""] * len(HEADERS)

    def put(header, value):
        row[COLUMN[header]] = value

    name = _text(card.contents["fn"][0].value) if _lines(card, "fn") else ""
    if not name and _lines(card, "n"):
        n = card.n.value
        family, given = _text(getattr(n, "family", "")), _text(getattr(n, "given", ""))
        cjk = re.search(r"[\u3400-\u9fff]", family + given)
        name = f"{family}{given}" if cjk else f"{given} {family}".strip()
    put("FN", name)
    for ln in _lines(card, "org")[:1]:
        parts = ln.value if isinstance(ln.value, list) else str(ln.value).split(";")
        parts = [_text(p) for p in parts if _text(p)]
        put("ORG", parts[0] if parts else "")
        put("ORG (department)", " / ".join(parts[1:]))
    title = next((_text(ln.value) for ln in _lines(card, "title") if _text(ln.value)), "")
    put("TITLE", title or next((_text(ln.value) for ln in _lines(card, "role") if _text(ln.value)), ""))

    mobile, phone, more = "", "", []
    for ln in _ordered(_lines(card, "tel")):
        number = _phone(ln.value)
        if not number:
            continue
        types = _types(ln)
        if "FAX" in types:
            more.append(number)
        elif not mobile and ("CELL" in types or (not types - {"PREF", "VOICE"} and _MOBILE.match(_digits(number)))):
            mobile = number
        elif not phone and "CELL" not in types:
            phone = number
        else:
            more.append(number)
    put("TEL (CELL)", mobile)
    put("TEL", phone)
    put("TEL (other)", "; ".join(more))
    emails = [_text(ln.value).removeprefix("mailto:") for ln in _ordered(_lines(card, "email"))]
    emails = [e for e in emails if e]
    put("EMAIL", emails[0] if emails else "")
    put("EMAIL (other)", "; ".join(emails[1:]))
    wechat = next((_text(ln.value) for key in ("x-wechat", "x-weixin") for ln in _lines(card, key)), "")
    if not wechat:
        for ln in _lines(card, "impp"):
            value = _text(ln.value)
            if value.lower().startswith(("weixin:", "wechat:")):
                wechat = value.split(":", 1)[1]
                break
    put("X-WECHAT", wechat)
    gender = next((_text(ln.value) for ln in _lines(card, "gender")), "") or next(
        (_text(ln.value) for ln in _lines(card, "x-gender")), "")
    gender = gender.split(";", 1)[0].strip().upper()
    put("GENDER", {"M": "male", "MALE": "male", "男": "male", "F": "female", "FEMALE": "female",
                   "女": "female"}.get(gender, ""))
    bday = next((_text(ln.value) for ln in _lines(card, "bday")), "")
    put("BDAY", _date(bday))
    for ln in _lines(card, "adr")[:1]:
        a = ln.value
        if hasattr(a, "street"):
            parts = [a.country, a.region, a.city, a.street, a.extended, a.box, a.code]
            cjk = re.search(r"[\u3400-\u9fff]", _text(parts))
            parts = [_text(p) for p in parts if _text(p)]
            put("ADR", "".join(parts) if cjk else ", ".join(reversed(parts)))
        else:
            put("ADR", _text(a).replace(";", " ").strip())
    put("URL", next((_text(ln.value) for ln in _lines(card, "url")), ""))
    put("NOTE", "\n".join(_text(ln.value) for ln in _lines(card, "note") if _text(ln.value)))
    categories = []
    for ln in _lines(card, "categories"):
        categories += [_text(v) for v in (ln.value if isinstance(ln.value, list) else str(ln.value).split(","))]
    put("CATEGORIES", ", ".join(c for c in categories if c))
    return row


def _date(value: str) -> str:
    """19850312, 1985-03-12, 1985-03-12T00:00:00Z, --0312 (no year: not a birthday Kehu can keep)."""
    m = re.match(r"^(\d{4})-?(\d{2})-?(\d{2})", value.strip())
    return f"{m.group(1)}-{m.group(2)}-{m.group(3)}" if m else ""


def _save_photo(params: dict, value: str, photos: Path) -> str:
    """The photo's bytes written once under their checksum; the file name, or "" for none."""
    text, kind = value.strip(), ""
    types = {t.strip().lower() for t in params.get("TYPE", "").split(",") if t.strip()}
    m = re.match(r"^data:image/([a-z0-9.+-]+)(;[^,]*)?,(.*)$", text, re.IGNORECASE | re.DOTALL)
    if m:
        kind, text = m.group(1).lower(), m.group(3)
    elif params.get("ENCODING", "").upper() not in ("B", "BASE64") and "base64" not in types:
        return ""  # a URL: never fetched
    try:
        data = base64.b64decode(re.sub(r"\s+", "", text), validate=False)
    except (binascii.Error, ValueError):
        return ""
    if not data or len(data) > MAX_PHOTO_BYTES:
        return ""
    if not kind:
        kind = next((t.removeprefix("image/") for t in types if t.removeprefix("image/") in PHOTO_TYPES), "")
    kind = PHOTO_TYPES.get(kind) or _sniff(data)
    if not kind:
        return ""
    name = f"{hashlib.sha1(data).hexdigest()[:20]}.{kind}"  # noqa: S324 - a file name, not a secret
    photos.mkdir(exist_ok=True)
    target = photos / name
    if not target.exists():
        target.write_bytes(data)
    return name


def _sniff(data: bytes) -> str:
    if data.startswith(b"\xff\xd8"):
        return "jpg"
    if data.startswith(b"\x89PNG"):
        return "png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    return ""


def photo_path(upload_path, name: str) -> Path | None:
    """The stored photo of a `PHOTO` cell of the upload at `upload_path` (None if it is not one)."""
    if not re.fullmatch(r"[0-9a-f]{20}\.(jpg|png|gif|webp|bmp)", name or ""):
        return None
    path = Path(str(upload_path) + ".photos") / name
    return path if path.exists() else None
