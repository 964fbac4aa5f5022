from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KnowledgeConfig(AppConfig):
    name = "kehu.knowledge"
    label = "knowledge"
    verbose_name = _("Knowledge base")

    def ready(self):
        from . import records, signals  # noqa: F401
