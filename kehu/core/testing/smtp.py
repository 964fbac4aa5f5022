"""A real SMTP server for tests: aiosmtpd on loopback, collecting what it receives."""

import email
import socket


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Collector:
    """An aiosmtpd handler keeping (recipients, message) of every mail received."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 OK"


def start_smtp(settings):
    """(controller, collector): an SMTP server on a free loopback port that Django's mail goes to
    until `controller.stop()`. `settings`: pytest-django's settings fixture."""
    from aiosmtpd.controller import Controller

    collector = Collector()
    port = free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    return controller, collector


def smtp_fixture(settings):
    """The body of a module's `smtp` fixture: `smtp = pytest.fixture(smtp_fixture)`, yielding the
    collector of the mail received."""
    controller, collector = start_smtp(settings)
    yield collector
    controller.stop()
