"""Markdown XSS payloads and an inspector of rendered HTML (kehu/core/markdown.py), for the tests
of every app that shows Markdown (knowledge-base articles, ticket texts).

    from kehu.core.testing.markdown import MD_PAYLOADS, inspect
    assert not inspect(str(render_markdown(payload)))   # [] when the output is inert
"""

from html.parser import HTMLParser

from kehu.ui.testing.xss import MARKDOWN_PAYLOADS as MD_PAYLOADS  # noqa: F401  (kept with the other payloads)

URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "background", "poster", "data", "srcdoc"}
FORBIDDEN_TAGS = {"script", "iframe", "object", "embed", "form", "button", "input", "svg", "math", "style", "meta",
                  "base", "link", "textarea", "frame", "frameset", "details", "body", "noscript", "template"}


class Inspector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []

    def handle_starttag(self, tag, attrs):
        if tag in FORBIDDEN_TAGS:
            self.problems.append(f"<{tag}>")
        a = dict(attrs)
        for name, value in attrs:
            value = value or ""
            squeezed = "".join(ch for ch in value if ch > " ").lower()
            if name.startswith("on") or name in ("style", "srcdoc") or name.startswith("hx-"):
                self.problems.append(f"<{tag} {name}=…>")
            if name in URL_ATTRS and squeezed.startswith(("javascript:", "vbscript:", "data:")):
                self.problems.append(f"<{tag} {name}={value!r}>")
        if tag == "a" and "href" in a:
            assert a.get("rel") == "noopener noreferrer nofollow", attrs
            assert "target" not in a, attrs
        if tag == "img" and "src" in a:
            src = a["src"]
            if not ((src.startswith("/") and not src.startswith("//")) or src.lower().startswith("https://")):
                self.problems.append(f"<img src={src!r}>")

    handle_startendtag = handle_starttag


def inspect(html: str) -> list[str]:
    parser = Inspector()
    parser.feed(html)
    parser.close()
    return parser.problems
