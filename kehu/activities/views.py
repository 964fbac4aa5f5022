from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.accounts.models import DataScope
from kehu.core.models import StaleVersionError
from kehu.core.views import RecordListView, local_next
from kehu.core.workflow import TransitionRefused
from kehu.customers.models import Contact

from . import services
from .models import Task


class TaskListView(RecordListView):
    """Tasks with tabs: mine, the team's (department or all scope), overdue."""

    def team_scope(self):
        access = self.request.user.access
        return access.superuser or access.scope != DataScope.OWN

    def tabs(self):
        tabs = [("mine", _("My tasks"))]
        if self.team_scope():
            tabs.append(("team", _("Team tasks")))
        tabs.append(("overdue", _("Overdue")))
        return tabs

    def filtered_queryset(self):
        qs = super().filtered_queryset()
        keys = [k for k, _label in self.tabs()]
        default = "team" if self.team_scope() else "mine"
        self.tab = self.request.GET.get("tab") if self.request.GET.get("tab") in keys else default
        if self.tab == "mine":
            qs = qs.filter(owner=self.request.user)
        elif self.tab == "overdue":
            # Task.open_q(): the predicate of the partial index task_open_due_idx (due_at, id)
            qs = qs.filter(Task.open_q(), due_at__lt=timezone.now())
        return qs

    def extra_context(self):
        return {"tab": self.tab, "tabs": self.tabs()}


@login_required
@require_POST
def complete_view(request, pk):
    if not request.user.has_right("task", "edit"):
        raise PermissionDenied
    task = get_object_or_404(Task.objects.visible_to(request.user), pk=pk)
    if task.is_open:  # My day's quick "done": the workflow's complete transition
        try:
            services.complete_task(task, request.user, (request.POST.get("note") or "").strip())
        except (TransitionRefused, StaleVersionError):
            messages.error(request, _("Someone else changed this task; reload it."))
        else:
            messages.success(request, _("Task “%(title)s” is done.") % {"title": task.title})
    return HttpResponseRedirect(local_next(request, reverse("activities:task_detail", args=[pk])))


@login_required
def contact_lookup(request):
    """HTMX autocomplete for the follow-up form: visible contacts matching the typed text."""
    if not request.user.has_right("contact", "view") and not request.user.has_right("followup", "create"):
        raise PermissionDenied
    term = next((v for k, v in request.GET.items() if k.endswith("search") or k == "q"), "").strip()
    qs = Contact.objects.visible_to(request.user).select_related("customer")
    customer = request.GET.get("customer")
    if customer and customer.isdigit():
        qs = qs.filter(customer_id=int(customer))
    if term:
        qs = qs.filter(name__icontains=term) | qs.filter(mobile__contains=term)
    rows = qs.order_by("-id")[:20]
    return render(request, "activities/partials/contact_options.html", {"rows": rows})
