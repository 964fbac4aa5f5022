"""The service app's pages besides the generic ones: the ticket page (handling entries added inline
with HTMX, a side-panel hook), the supervisor's queue with one-action assignment, and the order-line
lookup of the ticket form."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
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


class TicketDetailView(RecordDetailView):
    def get_object(self):
        # the people and the parties the page names, in the same query (five user lookups otherwise)
        return get_object_or_404(self.rt.visible(self.request.user).select_related(
            "type", "customer", "contact", "handler", "assigned_by", "owner", "created_by", "updated_by"),
            pk=self.kwargs["pk"])

    def base_context(self, **extra):
        ctx = super().base_context(**extra)
        obj = extra.get("object")
        if obj is not None and obj.status == Ticket.Status.ARCHIVED:
            ctx["can"] = {**ctx["can"], "edit": False}  # an archived ticket is read-only
        return ctx

    def extra_context(self, obj):
        from django.utils.safestring import mark_safe

        return {"entries": obj.entries.select_related("by").order_by("-at", "-id")[:200],
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
    ctx = {"object": ticket, "entries": ticket.entries.select_related("by").order_by("-at", "-id")[:200],
           "handling_form": form, "may_handle": ticket.is_open and services.may_handle(ticket, request.user)}
    return render(request, "service/partials/handling.html", ctx, status=422 if form.errors else 200)


@login_required
def queue(request):
    if not request.user.has_right("ticket", "assign"):
        raise PermissionDenied
    rows, cursor = home.unassigned(request.user, after=request.GET.get("after", ""))
    people = home.handlers()
    team = home.queue_team(people)
    ctx = {"rows": rows, "cursor": cursor, "load": home.handler_load(request.user, people),
           "handler_options": handler_options(team), "more_handlers": len(team) < len(people),
           "breaches": home.team_breaches(request.user), "rt": registry.get("ticket")}
    return TemplateResponse(request, "service/queue.html", ctx)


def handler_options(people) -> str:
    """The <option>s of the handler select, rendered once for every row of the queue (a template
    loop per row rendered 50 × 200 options: 400 ms for the page)."""
    from django.utils.html import format_html, format_html_join

    return format_html("{}{}", format_html('<option value="">{}</option>', _("Handler…")),
                       format_html_join("", '<option value="{}">{}</option>', ((u.pk, str(u)) for u in people)))


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
        return render(request, "service/partials/queue_row.html",
                      {"t": ticket, "error": error, "handler_options": handler_options(team),
                       "more_handlers": len(team) < len(people), "assigned": not error}, status=200)
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
