"""The outbox: development mail kept in the database instead of sent.

With no KEHU_EMAIL_HOST, settings.EMAIL_BACKEND is `kehu.core.mail.OutboxBackend`: reminders and
notifications by e-mail are written to `OutboxMessage`, which administrators read under
Administration → Outbox. A fresh `make run` needs no SMTP server and logs no connection errors.
"""

from django.core.mail.backends.base import BaseEmailBackend


class OutboxBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        from .models import OutboxMessage

        rows = []
        for message in email_messages or []:
            html = ""
            for content, mimetype in getattr(message, "alternatives", None) or []:
                if mimetype == "text/html":
                    html = content
            recipients = message.recipients()
            if not recipients:
                continue
            rows.append(OutboxMessage(
                subject=str(message.subject)[:500], from_email=str(message.from_email or "")[:300],
                recipients=", ".join(recipients), body=str(message.body), html=html,
            ))
        OutboxMessage.objects.bulk_create(rows)
        return len(rows)
