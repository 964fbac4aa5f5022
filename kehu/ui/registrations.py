"""What the ui app adds to the registries: the notifications panel of My day."""

from django.utils.translation import gettext_lazy as _

from kehu.core import registries as r

from .views import notifications_panel

r.home_panel("notifications", _("Unread notifications"), right="", build=notifications_panel, column="side",
             icon="ti-bell", order=110)
