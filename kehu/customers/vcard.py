"""A contact as a vCard 3.0 (UTF-8): one card to download, a file of many (the contact list's
filtered rows or the selected ones), and a QR code of the card that a phone's camera or WeChat
adds to its address book. Written with vobject, the library the import reads .vcf files with
(kehu/core/imports/vcard.py); the QR code with segno (docs/decisions.md).

Reading cards back (the import) takes what is written here: FN, N, ORG (the customer), TITLE,
TEL;TYPE=CELL (mobile), TEL;TYPE=WORK (phone), EMAIL, X-WECHAT, GENDER-like X-GENDER, BDAY, NOTE,
CATEGORIES (tags)."""

from __future__ import annotations

import io

from django.utils.text import slugify

# compound surnames written as one family name (欧阳修: 欧阳 + 修); other Chinese names: the first
# character is the family name
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "长孙",
                     "宇文", "司徒", "夏侯", "轩辕", "端木", "独孤", "南宫", "西门", "澹台")

QR_FIELDS = ("version", "n", "fn", "org", "title", "tel", "email", "url")


def split_name(name: str) -> tuple[str, str]:
    """(family, given) of a contact's name: 王芳 -> (王, 芳); Zhang Wei -> (Wei, Zhang)."""
    from .normalize import is_cjk

    name = (name or "").strip()
    if is_cjk(name):
        if len(name) > 2 and name[:2] in COMPOUND_SURNAMES:
            return name[:2], name[2:]
        return name[:1], name[1:]
    parts = name.rsplit(" ", 1)
    return (parts[1], parts[0]) if len(parts) == 2 else (name, "")


def card_of(contact, *, tags=None, compact: bool = False):
    """The vobject card of a contact (its customer read through `contact.customer`)."""
    import vobject

    card = vobject.vCard()
    family, given = split_name(contact.name)
    card.add("n").value = vobject.vcard.Name(family=family, given=given)
    card.add("fn").value = contact.name
    if contact.customer_id:
        card.add("org").value = [contact.customer.name]
    if contact.title:
        card.add("title").value = contact.title
    if contact.mobile:
        line = card.add("tel")
        line.value, line.type_param = contact.mobile, "CELL"
    if contact.phone:
        line = card.add("tel")
        line.value, line.type_param = contact.phone, "WORK"
    if contact.email:
        line = card.add("email")
        line.value, line.type_param = contact.email, "INTERNET"
    if compact:
        return card
    if contact.wechat:
        card.add("x-wechat").value = contact.wechat
    if contact.gender:
        card.add("x-gender").value = {"male": "Male", "female": "Female"}.get(contact.gender, "")
    if contact.birthday:
        card.add("bday").value = contact.birthday.isoformat()
    if contact.notes:
        card.add("note").value = contact.notes
    if tags:
        card.add("categories").value = list(tags)
    card.add("uid").value = f"kehu-contact-{contact.pk}"
    card.add("rev").value = contact.updated_at.strftime("%Y%m%dT%H%M%SZ") if contact.updated_at else ""
    return card


def vcard_text(contact, *, tags=None) -> str:
    return card_of(contact, tags=tags).serialize()


def vcards(contacts, tags_by_id=None):
    """The cards of many contacts, one after the other (a generator: a long list streams)."""
    for contact in contacts:
        yield vcard_text(contact, tags=(tags_by_id or {}).get(contact.pk))


def qr_png(contact, *, scale: int = 6) -> bytes:
    """A QR code (PNG) of the contact's card without notes and tags, so that it stays small enough
    to scan; UTF-8 byte mode, which phones' cameras and WeChat read as such."""
    import segno

    text = card_of(contact, compact=True).serialize()
    qr = segno.make(text, encoding="utf-8", error="m", micro=False)
    out = io.BytesIO()
    qr.save(out, kind="png", scale=scale, border=2)
    return out.getvalue()


def filename(contact, ext: str) -> str:
    return f"{contact.name or slugify(str(contact.pk))}.{ext}"
