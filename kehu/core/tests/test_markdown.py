"""Markdown is rendered inert (kehu/core/markdown.py): classic XSS payloads in the body, link text
and URLs, image alt and src, raw HTML blocks, code spans, SVG and entity tricks.

The output is parsed, not searched as text: no script element, no event handler or style
attribute, no script URL in any URL attribute (entities decoded, whitespace and control
characters removed as a browser does), no frame, object, form or SVG element; links carry
rel="noopener noreferrer nofollow" and images come from the app or https only."""

from html.parser import HTMLParser

import pytest

from kehu.core.markdown import render_markdown
from kehu.ui.testing import xss

MD_PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<img src=x onerror=alert(1)>",
    "<img src=\"x\" onerror=\"alert(1)\">",
    "<img/src/onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<svg><a xlink:href=\"javascript:alert(1)\"><text>x</text></a></svg>",
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
    "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
    "<object data=\"javascript:alert(1)\"></object>",
    "<embed src=\"javascript:alert(1)\">",
    "<form action=javascript:alert(1)><button>x</button></form>",
    "<button formaction=javascript:alert(1)>x</button>",
    "<details open ontoggle=alert(1)>",
    "<body onload=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
    "<a href=\"&#106;avascript:alert(1)\">x</a>",
    "<a href=\"&#x6A;&#x61;vascript:alert(1)\">x</a>",
    "<a href=\"java&#09;script:alert(1)\">x</a>",
    "<a href=\" javascript:alert(1)\">x</a>",
    "<a href=\"vbscript:msgbox(1)\">x</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
    "<a href=\"https://ok.example\" onclick=\"alert(1)\">x</a>",
    "<a href=\"https://ok.example\" style=\"position:fixed;top:0\">x</a>",
    "[click](javascript:alert(1))",
    "[click](JAVASCRIPT:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](javascript&colon;alert(1))",
    "[click](<javascript:alert(1)>)",
    "[click](data:text/html,<script>alert(1)</script>)",
    "[click](vbscript:msgbox(1))",
    "[<img src=x onerror=alert(1)>](https://ok.example)",
    "[x](https://ok.example \"a\\\" onmouseover=\\\"alert(1)\")",
    "[ref]\n\n[ref]: javascript:alert(1)",
    "![alt](javascript:alert(1))",
    "![alt](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![alt\" onerror=\"alert(1)](x.png)",
    "![<script>alert(1)</script>](https://img.example/a.png)",
    "![x](http://insecure.example/a.png)",
    "![x](//evil.example/a.png)",
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    "    <script>alert(1)</script>",
    "<div>\n<script>alert(1)</script>\n</div>",
    "<style>body{background:url(javascript:alert(1))}</style>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<base href=\"javascript:alert(1)//\">",
    "<link rel=stylesheet href=javascript:alert(1)>",
    "<!--<img src=\"--><img src=x onerror=alert(1)//\">",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<textarea><script>alert(1)</script></textarea>",
    "<p style=\"background:url(javascript:alert(1))\">x</p>",
    "<div hx-get=\"/\" hx-trigger=\"load\" hx-on::load=\"alert(1)\">x</div>",
    "<table><td background=\"javascript:alert(1)\">x</td></table>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<a href=\"https://ok.example\" target=\"_blank\">x</a>",
]
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


@pytest.mark.parametrize("payload", MD_PAYLOADS)
def test_markdown_payload_is_inert(payload):
    for text in (payload, f"# 标题 {payload}\n\n正文 {payload}\n\n- {payload}", f"> {payload}"):
        html = str(render_markdown(text))
        assert not inspect(html), (payload, html)


def test_the_generic_payloads_are_inert_in_markdown():
    for payload in xss.PAYLOADS:
        html = str(render_markdown(payload))
        assert not inspect(html), (payload, html)
        assert not [p for p in xss.problems(html) if "event handler" in p or "script" in p], (payload, html)


def test_at_least_fifty_payloads():
    assert len(MD_PAYLOADS) >= 50


def test_ordinary_markdown_still_renders():
    html = str(render_markdown(
        "# 打印机卡纸\n\n**先关机**，再打开*后盖*。\n\n- 一\n- 二\n\n| 型号 | 处理 |\n|---|---|\n| M2000 | 取纸 |\n\n"
        "[说明书](https://docs.example/m2000) ![图](/media/kb/m2000.png) ![外链](https://img.example/a.png)\n\n"
        "`code` ~~旧~~"))
    assert "<h1>打印机卡纸</h1>" in html
    assert "<strong>先关机</strong>" in html and "<em>后盖</em>" in html
    assert "<li>一</li>" in html and "<table>" in html and "<td>M2000</td>" in html
    assert '<a href="https://docs.example/m2000" rel="noopener noreferrer nofollow">说明书</a>' in html
    assert '<img src="/media/kb/m2000.png" alt="图">' in html
    assert '<img src="https://img.example/a.png" alt="外链">' in html
    assert "<code>code</code>" in html and "<s>旧</s>" in html


def test_insecure_and_foreign_images_lose_their_source():
    html = str(render_markdown("![a](http://x.example/a.png) ![b](//x.example/b.png) ![c](data:image/png;base64,AA)"))
    assert "x.example" not in html and "data:" not in html
    assert 'alt="a"' in html  # the text stays


def test_code_is_shown_as_text():
    html = str(render_markdown("`<script>alert(1)</script>`"))
    assert "<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>" in html


def test_empty_and_none():
    assert render_markdown("") == "" and render_markdown(None) == ""
