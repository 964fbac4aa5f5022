"""Markdown is rendered inert (kehu/core/markdown.py): classic XSS payloads in the body, link text
and URLs, image alt and src, raw HTML blocks, code spans, SVG and entity tricks.

The output is parsed, not searched as text: no script element, no event handler or style
attribute, no script URL in any URL attribute (entities decoded, whitespace and control
characters removed as a browser does), no frame, object, form or SVG element; links carry
rel="noopener noreferrer nofollow" and images come from the app or https only."""

import pytest

from kehu.core.markdown import render_markdown
from kehu.core.testing.markdown import MD_PAYLOADS, inspect
from kehu.ui.testing import xss


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


def test_quotes_in_text_are_references_and_attributes_stay_whole():
    html = str(render_markdown('" autofocus onfocus="x  \'y\' [a](https://ok.example/?q="b" "t>i\'tle")'))
    from kehu.core.markdown import _TAG

    assert '"' not in _TAG.sub("", html) and "'" not in _TAG.sub("", html)
    assert "&quot; autofocus onfocus=&quot;x" in html and "&#x27;y&#x27;" in html
    assert "title=\"t&gt;i'tle\"" in html and html.count("<a ") == 1
