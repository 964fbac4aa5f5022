"""The service app's pages besides the generic ones: the ticket page (handling entries added inline
with HTMX, a side-panel hook), the supervisor's queue with one-action assignment, and the order-line
lookup of the ticket form."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.registry import registry
from kehu.core.views import RecordDetailView, RecordEditView
from kehu.core.workflow import TransitionRefused

from . import home, services
from .forms import HandlingForm
from .models import Feedback, Ticket

# panels other apps put beside the ticket (the knowledge base's suggested articles): callables
# (request, ticket) -> rendered HTML or "" ; see docs/architecture.md "Service"
TICKET_SIDE_PANELS: list = []


def ticket_side_panel(fn):
    TICKET_SIDE_PANELS.append(fn)
    return fn


def _user_details() -> list[str]:
    from django.contrib.auth import get_user_model

    return [f.name for f in get_user_model()._meta.concrete_fields
            if f.name not in ("id", "username", "full_name", "is_active")]


def entries(ticket):
    """The ticket's latest 200 handling entries with their authors' names."""
    return ticket.entries.select_related("by").defer(*(f"by__{c}" for c in _user_details())).order_by("-at", "-id")[:200]


class TicketDetailView(RecordDetailView):
    def get_object(self):
        # the people and the parties the page names, in the same query (five user lookups otherwise);
        # of the people only their names (their passwords, settings and the rest: a third of the query)
        people = ("handler", "assigned_by", "owner", "created_by", "updated_by")
        return get_object_or_404(self.rt.visible(self.request.user).select_related("type", "customer", "contact", *people)
                                 .defer(*(f"{p}__{c}" for p in people for c in _user_details())), pk=self.kwargs["pk"])

    def base_context(self, **extra):
        ctx = super().base_context(**extra)
        obj = extra.get("object")
        if obj is not None and obj.status == Ticket.Status.ARCHIVED:
            ctx["can"] = {**ctx["can"], "edit": False}  # an archived ticket is read-only
        return ctx

    def extra_context(self, obj):
        from django.utils.safestring import mark_safe

        return {"entries": entries(obj),
                "handling_form": HandlingForm(), "may_handle": obj.is_open and services.may_handle(obj,
                                                                                                   self.request.user),
                "complaint": Feedback.objects.filter(ticket=obj).first(),
                "side_panels": [mark_safe(p(self.request, obj)) for p in TICKET_SIDE_PANELS]}  # noqa: S308


class TicketEditView(RecordEditView):
    def get_object(self):
        obj = super().get_object()
        if obj.status == Ticket.Status.ARCHIVED:
            raise PermissionDenied(_("An archived ticket is read-only."))
        return obj


@login_required
def handling(request, pk):
    """GET: the handling history; POST: a new entry (HTMX swaps the section)."""
    rt = registry.get("ticket")
    if not request.user.has_right("ticket", "view"):
        raise PermissionDenied
    ticket = get_object_or_404(rt.visible(request.user), pk=pk)
    form = HandlingForm()
    if request.method == "POST":
        form = HandlingForm(request.POST)
        if form.is_valid():
            try:
                services.add_handling(ticket, request.user, description=form.cleaned_data["description"],
                                      minutes=form.cleaned_data["minutes"])
            except ValidationError as exc:
                for field, errs in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errs)
            else:
                form = HandlingForm()
                ticket.refresh_from_db()
        if not request.htmx:
            if form.errors:
                messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
            return HttpResponseRedirect(reverse("service:ticket_detail", args=[pk]))
    ctx = {"object": ticket, "entries": entries(ticket),
           "handling_form": form, "may_handle": ticket.is_open and services.may_handle(ticket, request.user)}
    return render(request, "service/partials/handling.html", ctx, status=422 if form.errors else 200)


@login_required
def queue(request):
    if not request.user.has_right("ticket", "assign"):
        raise PermissionDenied
    rows, cursor = home.unassigned(request.user, after=request.GET.get("after", ""))
    people = home.handlers()
    team = home.queue_team(people)
    ctx = {"rows": rows, "cursor": cursor, "breaches": home.team_breaches(request.user), "rt": registry.get("ticket"),
           "queue_rows": queue_rows(request, rows, team, more_handlers=len(team) < len(people)),
           "load_rows": load_rows(home.handler_load(request.user, people))}
    return TemplateResponse(request, "service/queue.html", ctx)


def handler_options(people) -> str:
    """The <option>s of the handler select, rendered once for every row of the queue (a template
    loop per row rendered 50 × 200 options: 400 ms for the page)."""
    from django.utils.html import format_html, format_html_join

    return format_html("{}{}", format_html('<option value="">{}</option>', _("Handler…")),
                       format_html_join("", '<option value="{}">{}</option>', ((u.pk, str(u)) for u in people)))


def _url_parts(name) -> tuple[str, str]:
    """(before, after) the pk in the URL `name` of a ticket: reversed once for all the rows."""
    from django.utils.html import escape

    from kehu.ui.templatetags.kehu import ROW_PK

    before, after = reverse(name, args=[ROW_PK]).split(str(ROW_PK), 1)
    return escape(before), escape(after)


PRIORITY_BADGES = {"urgent": "bg-red-lt", "high": "bg-orange-lt"}


def queue_rows(request, tickets, team, *, more_handlers: bool, assigned: bool = False, error: str = "") -> str:
    """The queue's table rows (and the one row an assignment answers with), written in Python: a
    template included per row cost ~14 ms of the page for 50 rows (its tags, URLs and
    translations per row); the labels, the URLs and the handler options are made once here."""
    from django.middleware.csrf import get_token
    from django.utils.html import escape
    from django.utils.safestring import mark_safe

    from kehu.ui.templatetags.kehu import cell

    detail, detail_end = _url_parts("service:ticket_detail")
    assign, assign_end = _url_parts("service:queue_assign")
    label = {k: escape(v) for k, v in (("ticket", _("Ticket")), ("customer", _("Customer")),
                                        ("priority", _("Priority")), ("due", _("Resolution due")),
                                        ("assign", _("Assign")), ("handler", _("Handler")))}
    breached = f'<span class="badge bg-red-lt ms-1" data-testid="breached">{escape(_("SLA breached"))}</span>'
    options = handler_options(team) if not assigned else ""
    csrf = f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(get_token(request))}">'
    more = (f'<a class="small" href="{detail}{{pk}}{detail_end}" data-testid="queue-more-handlers">'
            f'{escape(_("Other handlers…"))}</a>') if more_handlers else ""
    row_class = ' class="table-success"' if assigned else ""
    parts = []
    for t in tickets:
        pk = escape(t.pk)
        parts.append(
            f'<tr data-testid="queue-row" data-ticket="{pk}"{row_class}>\n'
            f'  <td data-label="{label["ticket"]}"><a href="{detail}{pk}{detail_end}" class="fw-medium">'
            f'{escape(t.number)}</a>\n    {breached if t.breached else ""}\n'
            f'    <div class="text-secondary small text-truncate" style="max-width: 16rem">{escape(t.summary)}</div></td>\n'
            f'  <td data-label="{label["customer"]}" class="small" style="min-width: 7rem">{escape(t.customer)}</td>\n'
            f'  <td data-label="{label["priority"]}"><span class="badge {PRIORITY_BADGES.get(t.priority, "bg-secondary-lt")}">'
            f'{escape(t.get_priority_display())}</span></td>\n'
            f'  <td data-label="{label["due"]}" class="small text-nowrap{" text-red" if t.breached else ""}">'
            f'{escape(cell(t.resolution_due))}</td>\n'
            f'  <td data-label="{label["assign"]}">\n')
        if assigned:
            parts.append(f'    <span class="text-green small" data-testid="queue-assigned"><i class="ti ti-check me-1"></i>'
                         f'{escape(_("Assigned to %(user)s") % {"user": t.handler})}</span>\n')
        else:
            parts.append(
                f'    <form method="post" action="{assign}{pk}{assign_end}" hx-post="{assign}{pk}{assign_end}" '
                f'hx-target="closest tr" hx-swap="outerHTML" class="d-flex gap-1">{csrf}\n'
                f'      <select name="handler" class="form-select form-select-sm" style="min-width: 7rem" '
                f'aria-label="{label["handler"]}" required>{options}</select>\n'
                f'      <button class="btn btn-sm btn-primary" type="submit" data-testid="queue-assign">{label["assign"]}'
                f'</button>\n    </form>\n    {more.replace("{pk}", pk)}\n')
            if error:
                parts.append(f'    <div class="text-red small mt-1">{escape(error)}</div>\n')
        parts.append("  </td>\n</tr>\n")
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped


def load_rows(load) -> str:
    """The handlers' open tickets (every handler: 220 at the bench), written in Python."""
    from django.utils.html import escape, format_html
    from django.utils.safestring import mark_safe

    if not load:
        return format_html('<div class="list-group-item text-secondary">{}</div>', _("No handlers yet."))
    url = escape(reverse("service:ticket_list"))
    title = escape(_("SLA breached"))
    parts = []
    for r in load:
        badge = (f'<span class="badge bg-red-lt" title="{title}">{r["breached"]} <i class="ti ti-alarm"></i></span>'
                 if r["breached"] else "")
        parts.append(f'<div class="list-group-item d-flex align-items-center gap-2" data-testid="queue-load-row">'
                     f'<span class="flex-fill text-truncate">{escape(r["user"])}</span>{badge}'
                     f'<a class="badge bg-blue-lt" href="{url}?handler={escape(r["user"].pk)}">{r["open"]}</a></div>\n')
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped


@login_required
@require_POST
def queue_assign(request, pk):
    """Assign one ticket from the queue (the workflow's assign transition)."""
    rt = registry.get("ticket")
    if not request.user.has_right("ticket", "assign"):
        raise PermissionDenied
    ticket = get_object_or_404(rt.visible(request.user), pk=pk)
    error = ""
    try:
        ticket = rt.workflow.take(ticket, "assign", request.user, {"handler": request.POST.get("handler", ""),
                                                                   "comment": ""})
    except TransitionRefused as exc:
        error = exc.message
    except ValidationError as exc:
        error = " ".join(m for msgs in exc.message_dict.values() for m in msgs) if hasattr(exc, "error_dict") \
            else " ".join(exc.messages)
    if request.htmx:
        people = home.handlers()
        team = home.queue_team(people)
        return HttpResponse(queue_rows(request, [ticket], team, more_handlers=len(team) < len(people),
                                       assigned=not error, error=error))
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("%(ticket)s assigned to %(user)s.") % {"ticket": ticket, "user": ticket.handler})
    return HttpResponseRedirect(reverse("service:queue"))


@login_required
def order_line_lookup(request):
    """Autocomplete of a ticket's order line: lines of the user's visible orders, narrowed to
    ?customer=, matching the typed order number or product."""
    from kehu.orders.models import Order, OrderLine

    if not request.user.has_right("ticket", "create") and not request.user.has_right("ticket", "edit"):
        raise PermissionDenied
    term = next((v for k, v in request.GET.items() if k.endswith("search") or k == "q"), "").strip()
    orders = Order.objects.visible_to(request.user)
    customer = request.GET.get("customer", "")
    if customer.isdigit():
        orders = orders.filter(customer_id=customer)
    if term:
        orders = orders.filter(number__icontains=term)
    lines = (OrderLine.objects.filter(order__in=orders.order_by("-id").values("pk")[:20])
             .select_related("order", "product").order_by("-order_id", "id")[:30])
    return render(request, "service/partials/order_line_options.html", {"rows": lines})
