from django.urls import path

from kehu.core.registry import registry
from kehu.core.views import record_urls

from . import knowledge, views

app_name = "service"

urlpatterns = [
    path("tickets/queue/", views.queue, name="queue"),
    path("tickets/queue/<int:pk>/assign/", views.queue_assign, name="queue_assign"),
    path("tickets/<int:pk>/handling/", views.handling, name="ticket_handling"),
    path("tickets/order-lines/", views.order_line_lookup, name="order_line_lookup"),
    path("tickets/<int:pk>/articles/<int:article_pk>/link/", knowledge.link_article, name="ticket_link_article"),
    path("tickets/<int:pk>/articles/<int:article_pk>/unlink/", knowledge.link_article, {"unlink": True},
         name="ticket_unlink_article"),
]
urlpatterns += record_urls(registry.get("ticket"), {"detail": views.TicketDetailView, "edit": views.TicketEditView})
for key in ("feedback", "slapolicy", "workinghours", "holiday"):
    urlpatterns += record_urls(registry.get(key))
