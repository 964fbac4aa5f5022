"""Stored XSS: user-controlled text is always escaped (issue 9).

The rule (docs/decisions.md): text a user typed never passes through `|safe`, `mark_safe` or
`{% autoescape off %}`; markup we write ourselves is built with `format_html`. These tests enforce it.
"""

from django.test import Client

from kehu.core.models import CustomField


def test_custom_field_help_text_is_escaped_on_the_edit_form(org):
    """Regression: the help text was rendered with |safe, so a <script> in it ran on every form."""
    CustomField.objects.create(record_type="customers.customer", name="hint", label="提示",
                               help_text='<script>window.__xss(1)</script><img src=x onerror="__xss(2)">')
    client = Client()
    client.force_login(org.manager)
    html = client.get("/customers/add/").content.decode()
    assert "<script>window.__xss(1)</script>" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;window.__xss(1)&lt;/script&gt;&lt;img src=x onerror=&quot;__xss(2)&quot;&gt;" in html


def test_our_own_help_text_markup_still_renders(org):
    """Removing |safe keeps markup we wrote ourselves: Django's password rules are a SafeString list."""
    client = Client()
    client.force_login(org.manager)
    html = client.get("/accounts/password/").content.decode()
    assert '<div class="form-hint small"><ul><li>' in html
