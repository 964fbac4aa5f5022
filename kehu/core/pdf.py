"""PDF documents: a Django template rendered by WeasyPrint, Chinese in Noto Sans CJK SC, nothing
fetched from the network.

    from kehu.core.pdf import pdf_response, render_pdf

    def quotation_pdf(request, pk):
        quotation = get_object_or_404(Quotation, pk=pk)   # and its permission check
        pdf = render_pdf("sales/pdf/quotation.html", {"quotation": quotation}, request=request)
        return pdf_response(f"报价单-{quotation.number}.pdf", pdf)

The template extends "core/pdf/base.html" (A4, the company header, 第 1 / 2 页, the lines table
and the totals block; blocks: title, parties, lines, totals, terms, signatures).

Resources (images, stylesheets) go through `SafeURLFetcher`: data: URLs and the project's static
files ({% static "..." %}, found as staticfiles finds them) only; http(s), ftp, any other file
on disk and media uploads are refused, the document renders without them.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.http import content_disposition_header

logger = logging.getLogger(__name__)

BASE_URL = "file:///"  # "/static/x.png" resolves to file:///static/x.png, which the fetcher maps


def _weasyprint():
    import weasyprint  # a heavy import (Pango, fonts): only where a document is rendered

    return weasyprint


class RefusedURL(ValueError):
    """A resource the fetcher will not read; WeasyPrint logs it and renders without it."""


def _static_file(url: str) -> Path:
    """The static file a file:// URL stands for: its path is STATIC_URL + a static file's name."""
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise RefusedURL(f"Not a local file: {url}")
    path = unquote(parts.path)
    prefix = "/" + settings.STATIC_URL.strip("/") + "/"
    if not path.startswith(prefix):
        raise RefusedURL(f"Not a static file: {url}")
    name = PurePosixPath(path.removeprefix(prefix))
    if not name.parts or ".." in name.parts:
        raise RefusedURL(f"Not a static file: {url}")
    found = finders.find(str(name))
    if not found:
        raise RefusedURL(f"No such static file: {url}")
    return Path(found).resolve()


@functools.cache
def _fetcher_class():
    URLFetcher = _weasyprint().urls.URLFetcher  # noqa: N806

    class SafeURLFetcher(URLFetcher):
        """WeasyPrint's fetcher limited to data: URLs and static files; never the network."""

        def __init__(self):
            super().__init__(timeout=5, allowed_protocols=("data", "file"), allow_redirects=False)

        def fetch(self, url, headers=None):
            scheme = url.split(":", 1)[0].lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme == "file":
                try:
                    path = _static_file(url)
                except RefusedURL:
                    logger.warning("PDF: refused to read %s (only static files)", url[:200])
                    raise
                return super().fetch(path.as_uri(), headers)
            logger.warning("PDF: refused to fetch %s (only data: URLs and static files)", url[:200])
            raise RefusedURL(f"Refused (no network in documents): {url[:200]}")

    return SafeURLFetcher


def safe_url_fetcher():
    """A WeasyPrint url_fetcher that reads data: URLs and static files only."""
    return _fetcher_class()()


def render_pdf(template_name: str, context: dict | None = None, *, request=None) -> bytes:
    """The template rendered to HTML (in the current language, with the request's context
    processors when a request is given) and printed to PDF bytes by WeasyPrint."""
    html = render_to_string(template_name, {"company_name": settings.KEHU_COMPANY_NAME, **(context or {})},
                            request=request)
    document = _weasyprint().HTML(string=html, base_url=BASE_URL, url_fetcher=safe_url_fetcher())
    return document.write_pdf()


def pdf_response(filename: str, pdf_bytes: bytes, *, inline: bool = False) -> HttpResponse:
    """A download (or, inline=True, a page the browser shows) of `pdf_bytes` as `filename`;
    a Chinese name is sent as RFC 5987 filename*=utf-8''%E6%8A%A5…, an ASCII one as filename="…"."""
    response = HttpResponse(pdf_bytes, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(not inline, filename)
    response["Content-Length"] = str(len(pdf_bytes))
    response["X-Content-Type-Options"] = "nosniff"
    return response
