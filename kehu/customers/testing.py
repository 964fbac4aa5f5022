"""Test data builders for customers and contacts, shared by every app's tests."""

import base64
import itertools
import quopri

from .models import Contact, Customer

_seq = itertools.count(1)
WORDS = ["甲", "乙", "丙", "丁", "戊", "己", "庚", "辛", "壬", "癸"]


def make_customer(owner, name=None, **extra) -> Customer:
    """A validated, saved customer; a distinct Chinese company name unless one is given."""
    if name is None:
        n = next(_seq)
        name = f"{WORDS[n % 10]}{WORDS[(n // 10) % 10]}{n}号商贸有限公司"
    customer = Customer(name=name, owner=owner, created_by=owner, **extra)
    customer.full_clean()
    customer.save()
    return customer


def make_contact(customer, name, **extra) -> Contact:
    contact = Contact(customer=customer, name=name, **extra)
    contact.full_clean()
    contact.save()
    return contact


# --- vCard files as phones and mail clients write them (kehu/customers/tests/test_vcard.py) ----------

# a 1x1 PNG and a tiny JPEG header: what a phone's photo starts with
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(range(256)) * 8 + b"\xff\xd9"


def qp(text, charset="gbk", width=0):
    """Quoted-printable of `text` in `charset`; with `width`, soft line breaks every `width` chars
    (what Android writes for long values)."""
    encoded = quopri.encodestring(text.encode(charset)).decode("ascii").replace("=\n", "")
    if not width:
        return encoded
    out, line = [], ""
    for i in range(0, len(encoded), 3):
        line += encoded[i:i + 3]
        if len(line) >= width:
            out.append(line + "=")
            line = ""
    out.append(line)
    return "\r\n".join(out)


def fold(text, width=74):
    return "\r\n ".join(text[i:i + width] for i in range(0, len(text), width))


def card21_gbk(name="王芳", family="王", given="芳", org="华东精密机械有限公司", title="销售经理"):
    """An Android / Huawei export: vCard 2.1, GBK in quoted-printable with soft line breaks, a
    photo in base64, three phones and two e-mails."""
    photo = fold(base64.b64encode(JPEG).decode())
    note = "老客户，2019年展会认识。喜欢喝茶，周末不要打电话。" * 2
    return (
        "BEGIN:VCARD\r\nVERSION:2.1\r\n"
        f"N;CHARSET=GBK;ENCODING=QUOTED-PRINTABLE:{qp(family)};{qp(given)};;;\r\n"
        f"FN;CHARSET=GBK;ENCODING=QUOTED-PRINTABLE:{qp(name)}\r\n"
        f"ORG;CHARSET=GBK;ENCODING=QUOTED-PRINTABLE:{qp(org)};{qp('华东销售部')}\r\n"
        f"TITLE;CHARSET=GBK;ENCODING=QUOTED-PRINTABLE:{qp(title)}\r\n"
        "TEL;CELL;PREF:139-1234-5678\r\nTEL;WORK;VOICE:021-62345678\r\nTEL;HOME:010-88886666\r\n"
        "TEL;WORK;FAX:021-62345679\r\n"
        "EMAIL;INTERNET;PREF:wangfang@huadong.cn\r\nEMAIL;INTERNET;HOME:wf1985@example.com\r\n"
        f"NOTE;CHARSET=GBK;ENCODING=QUOTED-PRINTABLE:{qp(note, width=60)}\r\n"
        "BDAY:1985-03-12\r\n"
        f"PHOTO;ENCODING=BASE64;TYPE=JPEG:{photo}\r\n\r\n"
        "END:VCARD\r\n")


def card21_utf8(name="李娜", org="北方物流集团"):
    return ("BEGIN:VCARD\r\nVERSION:2.1\r\n"
            f"FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:{qp(name, 'utf-8')}\r\n"
            f"ORG;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:{qp(org, 'utf-8')}\r\n"
            "TEL;CELL:13987654321\r\nEND:VCARD\r\n")


def card30(name="张伟", org="华东精密机械有限公司", mobile="+86 138 0013 8000", email="zhang.wei@huadong.cn"):
    """An iPhone / Outlook export: vCard 3.0 in UTF-8, TYPE lists, a grouped item and a photo."""
    return ("BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:-//Apple Inc.//iPhone OS 17.0//EN\r\n"
            f"N:{name[0]};{name[1:]};;;\r\nFN:{name}\r\nORG:{org};采购部\r\nTITLE:采购总监\r\n"
            f"item1.TEL;type=CELL;type=VOICE;type=pref:{mobile}\r\n"
            "TEL;TYPE=WORK,VOICE:0512-66668888\r\n"
            f"item2.EMAIL;type=INTERNET;type=WORK;type=pref:{email}\r\n"
            "EMAIL;TYPE=INTERNET,HOME:zw@example.com\r\n"
            "EMAIL;TYPE=INTERNET:zw.backup@example.com\r\n"
            "X-WECHAT:zhangwei_sz\r\nCATEGORIES:展会,重点\r\n"
            f"PHOTO;ENCODING=b;TYPE=PNG:{base64.b64encode(PNG).decode()}\r\n"
            "END:VCARD\r\n")


def card40(name="Chen Jing", org="北方物流集团"):
    """A vCard 4.0 (Thunderbird, Nextcloud): tel: URIs, PREF=1, a data: photo, GENDER."""
    return ("BEGIN:VCARD\r\nVERSION:4.0\r\n"
            f"FN:{name}\r\nN:Chen;Jing;;;\r\nORG:{org}\r\nGENDER:F\r\n"
            "TEL;VALUE=uri;TYPE=\"cell,voice\";PREF=1:tel:+86-137-1111-2222\r\n"
            "TEL;VALUE=uri;TYPE=work:tel:+86-10-6552-9988;ext=12\r\n"
            "EMAIL;TYPE=work;PREF=1:chen.jing@north.cn\r\n"
            f"PHOTO:data:image/png;base64,{base64.b64encode(PNG).decode()}\r\n"
            "BDAY:19900102\r\nEND:VCARD\r\n")


def vcf(*cards, encoding="utf-8") -> bytes:
    return "".join(cards).encode(encoding)
