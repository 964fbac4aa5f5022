"""The knowledge base beside a ticket (kehu/knowledge): articles suggested from the ticket's text,
the articles linked to it, and linking one in a click (the article then lists the ticket among
what it solved). Imported by registrations.py."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST

from kehu.core.registry import registry
from kehu.knowledge import links
from kehu.knowledge.services import suggest_articles

from . import services
from .models import Ticket
from .views import ticket_side_panel


def may_link(ticket, user) -> bool:
    """Those who work on an open ticket link articles to it (an archived ticket is read-only)."""
    return ticket.status != Ticket.Status.ARCHIVED and services.may_handle(ticket, user)


def panel_context(request, ticket) -> dict | None:
    user = request.user
    if not user.has_right("article", "view"):
        return None
    linked = [ln.article for ln in links.links_for(ticket)]
    visible = set(registry.get("article").visible(user).filter(pk__in=[a.pk for a in linked])
                  .values_list("pk", flat=True)) if linked else set()
    linked = [a for a in linked if a.pk in visible]
    taken = {a.pk for a in linked}
    suggested = [a for a in suggest_articles(services.ticket_text(ticket), user, limit=5 + len(taken))
                 if a.pk not in taken][:5]
    return {"ticket": ticket, "linked": linked, "articles": suggested, "may_link": may_link(ticket, user),
            "link_button": "service/partials/kb_link_button.html"}


@ticket_side_panel
def knowledge_panel(request, ticket) -> str:
    ctx = panel_context(request, ticket)
    return render_to_string("service/partials/kb_panel.html", ctx, request=request) if ctx else ""


@login_required
@require_POST
def link_article(request, pk, article_pk, unlink=False):
    """Link (or unlink) an article the user may read to a ticket the user works on; answers the
    panel again (HTMX) or goes back to the ticket."""
    from django.http import HttpResponse, HttpResponseRedirect

    ticket = get_object_or_404(registry.get("ticket").visible(request.user), pk=pk)
    if not may_link(ticket, request.user) or not request.user.has_right("article", "view"):
        raise PermissionDenied
    article = get_object_or_404(registry.get("article").visible(request.user), pk=article_pk)
    if unlink:
        links.unlink(article, ticket, request.user)
    else:
        links.link(article, ticket, request.user)
    if request.headers.get("HX-Request"):
        return HttpResponse(knowledge_panel(request, ticket))
    return HttpResponseRedirect(services.ticket_url(ticket))
