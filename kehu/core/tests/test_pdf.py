"""PDF documents (kehu/core/pdf.py): Chinese text and 大写金额 come out as text (the CJK font is
embedded, not boxes), nothing is fetched from the network, a Chinese file name downloads."""

import base64
import os
import shutil
import subprocess
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.utils import translation

from kehu.core import pdf
from kehu.core.pdf import RefusedURL, pdf_response, render_pdf, safe_url_fetcher
from kehu.core.templatetags import kehu_pdf

D = Decimal
TEMPLATE = "toyapp/pdf_document.html"  # tests/toyapp/templates: extends core/pdf/base.html


def _poppler(tool):
    path = shutil.which(tool)
    if not path:
        message = f"{tool} (poppler-utils) is not installed: scripts/test.sh installs it"
        pytest.fail(message) if os.environ.get("CI") == "true" else pytest.skip(message)
    return path


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    return subprocess.run([_poppler("pdftotext"), "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True, timeout=60).stdout


def context(n_lines=3, **extra):
    lines = [{"name": f"服务器机柜 {i}", "qty": 2, "price": D("1004.07"), "amount": D("2008.14")}
             for i in range(1, n_lines + 1)]
    return {"number": "Q-2026-0001", "customer": "上海华信科技有限公司", "lines": lines,
            "total": sum((line["amount"] for line in lines), D("0.00")), **extra}


def test_chinese_text_and_amount_in_words_are_text_in_the_pdf(tmp_path, settings):
    settings.KEHU_COMPANY_NAME = "杭州客户软件有限公司"
    with translation.override("en"):
        data = render_pdf(TEMPLATE, context(n_lines=60))
    assert data.startswith(b"%PDF-")
    text = pdf_text(data, tmp_path)
    assert "上海华信科技有限公司" in text
    assert "杭州客户软件有限公司" in text  # the header, from KEHU_COMPANY_NAME
    assert "服务器机柜 60" in text
    assert "¥120,488.40" in text
    assert "壹拾贰万零肆佰捌拾捌元肆角" in text  # 120,488.40 in 大写
    assert "Page 1 of 3" in text and "Page 3 of 3" in text  # 60 lines: three pages, numbered
    fonts = subprocess.run([_poppler("pdffonts"), str(tmp_path / "doc.pdf")], check=True,
                           capture_output=True, text=True, timeout=60).stdout
    assert "Noto-Sans-CJK-SC" in fonts


def test_page_numbers_in_chinese(tmp_path, monkeypatch):
    monkeypatch.setattr(kehu_pdf, "gettext", lambda s: "第 %(page)s / %(pages)s 页" if s.startswith("Page") else s)
    text = pdf_text(render_pdf(TEMPLATE, context(n_lines=40)), tmp_path)
    squeezed = text.replace(" ", "")  # pdftotext drops the spaces around CJK: 第2/2页
    assert "第1/2页" in squeezed and "第2/2页" in squeezed


class _Recorder(BaseHTTPRequestHandler):
    hits: list = []

    def do_GET(self):  # noqa: N802
        type(self).hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()
        self.wfile.write(base64.b64decode(PNG))

    def log_message(self, *args):
        pass


PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def test_an_http_image_is_not_fetched_and_the_document_still_renders(tmp_path):
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    _Recorder.hits = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/logo.png"
        data = render_pdf(TEMPLATE, context(image_url=url))
    finally:
        server.shutdown()
        server.server_close()
    assert _Recorder.hits == []  # WeasyPrint's own fetcher would have asked for /logo.png
    assert "上海华信科技有限公司" in pdf_text(data, tmp_path)


def test_a_data_image_is_read(tmp_path):
    data = render_pdf(TEMPLATE, context(image_url=f"data:image/png;base64,{PNG}"))
    assert b"/Subtype /Image" in data or b"/Subtype/Image" in data


def test_the_fetcher_reads_static_files_and_data_urls_only():
    fetch = safe_url_fetcher()
    response = fetch("file:///static/ui/kehu.css")  # {% static "ui/kehu.css" %} against file:///
    assert response.read() and response.content_type == "text/css"
    response.close()
    response = fetch(f"data:image/png;base64,{PNG}")
    assert response.read().startswith(b"\x89PNG")
    response.close()
    for url in ["http://127.0.0.1/x.png", "https://example.com/x.png", "ftp://example.com/x",
                "file:///etc/passwd", "file:///static/../../etc/passwd", "file:///static/%2e%2e/%2e%2e/etc/passwd",
                "file:///static/no-such-file.png", "file:///media/attachments/1/contract.pdf",
                "file://example.com/static/ui/kehu.css"]:
        with pytest.raises(RefusedURL):
            fetch(url)
            pytest.fail(f"read {url}")


def test_content_disposition_of_a_chinese_file_name():
    response = pdf_response("报价单 Q-2026-0001.pdf", b"%PDF-1.7 test")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''%E6%8A%A5%E4%BB%B7%E5%8D%95%20Q-2026-0001.pdf")
    assert response.content == b"%PDF-1.7 test"
    assert response["Content-Length"] == "13"
    inline = pdf_response("quote.pdf", b"%PDF", inline=True)
    assert inline["Content-Disposition"] == 'inline; filename="quote.pdf"'


def test_css_strings_cannot_leave_the_style_element():
    assert kehu_pdf.css_string('a"b\\c</style><script>') == '"a\\22 b\\5c c\\3c /style\\3e \\3c script\\3e "'


def test_weasyprint_is_imported_only_to_render():
    assert "weasyprint" not in vars(pdf)
