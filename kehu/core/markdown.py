"""Markdown rendered safely: `render_markdown(text) -> SafeString` (knowledge-base articles, ticket texts).

Two well-kept libraries, each doing one job (docs/decisions.md):

- markdown-it-py (CommonMark + tables + strikethrough) turns the text into HTML. Raw HTML in the text
  is allowed through this step (people paste `<kbd>`, `<br>`, tables), because the next step decides
  what survives; its own link check already refuses javascript:, vbscript:, file: and data: links.
  Character references in the text (`&lt;`) are shown as typed, like in every other text field of
  Kehu, rather than decoded (the XSS sweep then finds no payload's own text in a page).
- nh3 (the Rust `ammonia` sanitizer, parsing with html5ever as a browser does) keeps an allow-list of
  tags and attributes: no script, style, iframe, object, form or SVG; no event handler or style
  attribute; links only http(s), mailto and relative, each with rel="noopener noreferrer nofollow";
  images only from the app itself (a path starting with one "/") or https.

What comes out is the only HTML of user text Kehu marks safe, so every caller shows it with no
further escaping (`{{ article.body|markdown }}`).
"""

from __future__ import annotations

import re
from functools import lru_cache

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "u", "s", "del", "ins",
    "blockquote", "ul", "ol", "li", "code", "pre", "kbd", "samp", "sub", "sup", "mark", "small",
    "a", "img", "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "dl", "dt", "dd", "abbr",
}
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"align", "colspan", "rowspan"},
    "td": {"align", "colspan", "rowspan"},
    "ol": {"start"},
    "abbr": {"title"},
}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "noopener noreferrer nofollow"
MAX_CHARS = 200_000  # a longer text is cut (a 5 MB paste would hold a worker for seconds)


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False}).enable(
        ["table", "strikethrough"]).disable("entity")


def _image_source_allowed(src: str) -> bool:
    """The app's own files (a path: "/media/…", not "//host/…") or https."""
    s = src.strip()
    return (s.startswith("/") and not s.startswith("//") and "\\" not in s) or s.lower().startswith("https://")


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src" and not _image_source_allowed(value):
        return None
    return value


# a tag as nh3 (html5ever) writes it: attribute values always in double quotes, `"` inside them as &quot;
_TAG = re.compile(r'<[^>"]*(?:"[^"]*"[^>"]*)*>')


def _quote_text(html: str) -> str:
    """Quotes in the text between the tags written as references (html5ever leaves them bare in
    text, where they are harmless): the page then never holds a user's `" onfocus="…` as typed."""
    out, last = [], 0
    for m in _TAG.finditer(html):
        out.append(html[last:m.start()].replace('"', "&quot;").replace("'", "&#x27;"))
        out.append(m.group(0))
        last = m.end()
    out.append(html[last:].replace('"', "&quot;").replace("'", "&#x27;"))
    return "".join(out)


def sanitize_html(html: str) -> str:
    """HTML reduced to the allow-list (see the module)."""
    return _quote_text(nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES, link_rel=LINK_REL,
                     attribute_filter=_attribute_filter, strip_comments=True,
                     clean_content_tags={"script", "style", "noscript", "template", "textarea", "title",
                                         "iframe", "object", "embed", "svg", "math", "select", "xmp"}))


def render_markdown(text: str | None) -> SafeString:
    """`text` (Markdown) as sanitized HTML, safe to put in a page as it is."""
    if not text:
        return mark_safe("")
    html = _parser().render(str(text)[:MAX_CHARS])
    return mark_safe(sanitize_html(html))  # noqa: S308 - sanitized by nh3 just above
