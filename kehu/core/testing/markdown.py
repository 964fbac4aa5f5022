"""Markdown XSS payloads and an inspector of rendered HTML (kehu/core/markdown.py), for the tests
of every app that shows Markdown (knowledge-base articles, ticket texts).

    from kehu.core.testing.markdown import MD_PAYLOADS, inspect
    assert not inspect(str(render_markdown(payload)))   # [] when the output is inert
"""

from html.parser import HTMLParser

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
