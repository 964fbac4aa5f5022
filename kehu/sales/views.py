"""Opportunity pages: detail with the development plan and stage history, assignment, the
pipeline board (drag and drop) and the forecast."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, DecimalField, F, Sum
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.accounts.models import User
from kehu.core.models import StaleVersionError
from kehu.core.registry import registry
from kehu.core.views import RecordDetailView, RecordEditView, RecordListView

from . import services
from .forms import BoardFilterForm, PlanStepInlineForm, StageChangeForm
from .models import Opportunity, PlanStep, Stage, StageChange

CARDS_PER_COLUMN = 50
CENT = Decimal("0.01")


def opportunity_type():
    return registry.get("opportunity")


def _require(user, module, action):
    if not user.has_right(module, action):
        raise PermissionDenied


def _visible_opportunity(request, pk):
    _require(request.user, "opportunity", "view")
    return get_object_or_404(opportunity_type().visible(request.user), pk=pk)


def _error_dict(exc: ValidationError) -> dict:
    return exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}


# --- create / edit / detail ----------------------------------------------------------

class OpportunityEditView(RecordEditView):
    """The generic edit view; the services' ValidationErrors (won customer) become form errors."""

    def save(self, form):
        self._form = form
        return super().save(form)

    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except ValidationError as exc:
            form = self._form
            for field, errors in _error_dict(exc).items():
                form.add_error(field if field in form.fields else None, errors)
            instance = form.instance
            if instance.pk is not None and not Opportunity.all_objects.filter(pk=instance.pk).exists():
                instance.pk = None
            return self.render(form, instance)


class OpportunityListView(RecordListView):
    template_name = "sales/opportunity_list.html"


class OpportunityDetailView(RecordDetailView):
    def extra_context(self, obj):
        user = self.request.user
        ctx = {
            "extra_tabs": [("plan", _("Development plan")), ("stages", _("Stage history"))],
            "header_actions": "sales/partials/header_actions.html",
            "title_badges": "sales/partials/title_badges.html",
            "stages": Stage.objects.filter(active=True),
            "can_log_followup": user.has_right("followup", "create"),
            "users": User.objects.pickable() if user.has_right(
                "opportunity", "assign") else [],
        }
        tab = self.request.GET.get("tab", "details")
        if tab == "plan":
            plan = plan_context(self.request, obj)
            plan.pop("object")
            ctx.update(plan)
        elif tab == "stages":
            ctx["stage_changes"] = StageChange.objects.filter(opportunity=obj).select_related(
                "from_stage", "to_stage", "changed_by").order_by("-changed_at", "-id")[:200]
        return ctx


@login_required
@require_POST
def assign_view(request, pk):
    _require(request.user, "opportunity", "assign")
    opp = _visible_opportunity(request, pk)
    owner = User.objects.filter(pk=request.POST.get("owner") or 0, is_active=True).first()
    try:
        services.assign(opp, owner, request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except StaleVersionError:
        messages.error(request, _("Someone else changed this opportunity; try again."))
    else:
        messages.success(request, _("“%(title)s” is assigned to %(owner)s.") % {"title": opp.title, "owner": owner})
    if opportunity_type().visible(request.user).filter(pk=pk).exists():
        return HttpResponseRedirect(reverse("sales:opportunity_detail", args=[pk]))
    return HttpResponseRedirect(reverse("sales:opportunity_list"))


# --- development plan (HTMX) --------------------------------------------------------

def plan_context(request, opp, form=None, errors=None):
    user = request.user
    steps = list(PlanStep.objects.filter(opportunity=opp).select_related("responsible").order_by(
        "order", "planned_on", "id"))
    if form is None:
        form = PlanStepInlineForm(initial={"responsible": opp.owner_id or user.pk})
    return {
        "object": opp, "steps": steps, "plan_form": form, "plan_errors": errors or {},
        "can_plan": {a: user.has_right("planstep", a) for a in ("view", "create", "edit", "delete")},
    }


@login_required
def plan_view(request, pk):
    """GET: the plan partial. POST: add a step (then the partial again)."""
    opp = _visible_opportunity(request, pk)
    _require(request.user, "planstep", "view")
    form = None
    if request.method == "POST":
        _require(request.user, "planstep", "create")
        form = PlanStepInlineForm(request.POST, instance=PlanStep(opportunity=opp, owner_id=opp.owner_id,
                                                                  created_by=request.user, updated_by=request.user))
        if form.is_valid():
            last = PlanStep.objects.filter(opportunity=opp).order_by("-order").values_list("order", flat=True).first()
            form.instance.order = (last or 0) + 1
            form.save()
            form = None
    ctx = plan_context(request, opp, form)
    if not request.htmx:
        return HttpResponseRedirect(reverse("sales:opportunity_detail", args=[pk]) + "?tab=plan")
    return render(request, "sales/partials/plan.html", ctx)


@login_required
@require_POST
def plan_complete_view(request, pk, step_pk):
    opp = _visible_opportunity(request, pk)
    _require(request.user, "planstep", "edit")
    step = get_object_or_404(PlanStep.objects.filter(opportunity=opp), pk=step_pk)
    errors = {}
    try:
        services.complete_step(step, request.POST.get("result", ""), request.user)
    except ValidationError as exc:
        errors = {step.pk: " ".join(exc.messages)}
    if not request.htmx:
        if errors:
            messages.error(request, next(iter(errors.values())))
        return HttpResponseRedirect(reverse("sales:opportunity_detail", args=[pk]) + "?tab=plan")
    return render(request, "sales/partials/plan.html", plan_context(request, opp, errors=errors))


# --- the pipeline board -----------------------------------------------------------------

def weighted_sum():
    return Sum(F("amount") * F("probability"), output_field=DecimalField(max_digits=24, decimal_places=2))


def _money(value):
    return Decimal(value or 0).quantize(CENT)


def board_context(request):
    user = request.user
    filters = BoardFilterForm(request.GET or None)
    # no joins (the list's select_related): SQLite would plan the joined table first
    qs = filters.apply(opportunity_type().visible(user)).select_related(None)
    stages = list(Stage.objects.filter(active=True).order_by("order", "id"))
    totals = {
        row["stage_id"]: row
        for row in qs.order_by().values("stage_id").annotate(n=Count("id"), total=Sum("amount"),
                                                             weighted=weighted_sum())
    }
    columns = []
    owner_ids = set()
    for stage in stages:
        row = totals.get(stage.pk, {})
        n = row.get("n", 0)
        # the stage's newest cards from opp_board_idx / opp_owner_board_idx; the owners are read
        # afterwards by id (a join with the users makes SQLite plan the users first)
        cards = list(qs.filter(stage=stage).select_related("customer").order_by("-updated_at", "-id")
                     [:CARDS_PER_COLUMN]) if n else []
        owner_ids.update(c.owner_id for c in cards if c.owner_id)
        columns.append({
            "stage": stage, "cards": cards, "count": n, "more": max(0, n - len(cards)),
            "total": _money(row.get("total")), "weighted": _money((row.get("weighted") or 0) / Decimal(100)),
        })
    owners = User.objects.in_bulk(owner_ids)
    for column in columns:
        for card in column["cards"]:
            card.owner = owners.get(card.owner_id)
    open_cols = [c for c in columns if not c["stage"].is_closed]
    return {
        "columns": columns, "filters": filters, "query": request.GET.urlencode(),
        "open_total": sum((c["total"] for c in open_cols), Decimal(0)),
        "open_weighted": sum((c["weighted"] for c in open_cols), Decimal(0)),
        "can_edit": user.has_right("opportunity", "edit"),
        "can_create": user.has_right("opportunity", "create"),
        "rt": opportunity_type(),
    }


@login_required
def board_view(request):
    _require(request.user, "opportunity", "view")
    ctx = board_context(request)
    if request.htmx and request.htmx.target == "board":
        return render(request, "sales/partials/board.html", ctx)
    return TemplateResponse(request, "sales/board.html", ctx)


@login_required
def stage_view(request, pk):
    """GET ?stage=: the small form a won or lost stage needs. POST: change the stage (board,
    detail page), then the board again, or the form with its errors."""
    _require(request.user, "opportunity", "edit")
    opp = _visible_opportunity(request, pk)
    origin = request.GET.get("from") or request.POST.get("from") or "board"
    if request.method == "GET":
        stage = get_object_or_404(Stage.objects.filter(active=True), pk=request.GET.get("stage") or 0)
        form = StageChangeForm(initial={
            "stage": stage.pk, "amount": opp.amount, "deal_products": opp.deal_products,
            "signed_on": opp.signed_on, "lost_reason": opp.lost_reason_id, "won_competitor": opp.won_competitor})
        return render(request, "sales/partials/stage_dialog.html",
                      {"object": opp, "stage": stage, "form": form, "origin": origin, "query": _board_query(request)})
    form = StageChangeForm(request.POST)
    error = None
    if form.is_valid():
        stage = form.cleaned_data["stage"]
        try:
            services.change_stage(opp, stage, request.user, **form.close_data())
        except ValidationError as exc:
            for field, errs in _error_dict(exc).items():
                form.add_error(field if field in form.fields else None, errs)
        except StaleVersionError:
            error = _("Someone else changed this opportunity; try again.")
    stage = form.cleaned_data.get("stage") if hasattr(form, "cleaned_data") else None
    if form.errors or error:
        if stage is not None and stage.is_closed and not error:
            response = render(request, "sales/partials/stage_dialog.html", {
                "object": opp, "stage": stage, "form": form, "origin": origin, "query": _board_query(request)})
            response["HX-Retarget"] = "#board-dialog"
            response["HX-Reswap"] = "innerHTML"
            return response
        error = error or " ".join(str(e) for errs in form.errors.values() for e in errs)
    if origin == "detail" or not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, _("“%(title)s” moved to %(stage)s.") % {"title": opp.title, "stage": stage})
        url = reverse("sales:opportunity_detail", args=[pk])
        if request.htmx:
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return HttpResponseRedirect(url)
    request.GET = _board_get(request)
    ctx = board_context(request)
    ctx["board_error"] = error
    ctx["moved"] = None if error else opp.pk
    response = render(request, "sales/partials/board.html", ctx)
    response["HX-Retarget"] = "#board"
    response["HX-Reswap"] = "innerHTML"
    return response


def _board_query(request):
    return request.GET.get("q_board") or request.POST.get("q_board") or ""


def _board_get(request):
    from django.http import QueryDict

    return QueryDict(_board_query(request))


# --- forecast -------------------------------------------------------------------------

def forecast_rows(qs):
    """Open opportunities of `qs` per expected close month: [{month, count, total, weighted}].

    No per-row date truncation: on SQLite Django's TruncMonth is a Python function called for each
    of ~750k rows, and nothing can be indexed on it. The database groups by the stored columns
    (expected_close, stage) in the order of the partial index opp_open_close_idx (expected_close,
    stage, owner, amount, probability WHERE deleted_at IS NULL AND closed_at IS NULL): one ordered
    pass over a covering index, no sort, no temporary table, the data scope's owner checked inside
    the index. It returns at most one row per (day, stage), a few thousand, which are rolled up into
    months here; won and lost stages are dropped here too (from the small stage table) instead of
    joining the stage per row."""
    open_stages = set(Stage.objects.filter(is_won=False, is_lost=False).values_list("pk", flat=True))
    rows = (qs.filter(closed_at__isnull=True).values("expected_close", "stage_id")
            .annotate(n=Count("*"), total=Sum("amount"), weighted=weighted_sum())
            .order_by("expected_close", "stage_id"))
    months = {}
    for row in rows:
        if row["stage_id"] not in open_stages:
            continue
        day = row["expected_close"]
        line = months.setdefault(day.replace(day=1) if day else None, [0, Decimal(0), Decimal(0)])
        line[0] += row["n"]
        line[1] += row["total"] or 0
        line[2] += row["weighted"] or 0
    order = sorted(months, key=lambda m: (m is None, m or 0))
    return [{"month": m, "count": months[m][0], "total": _money(months[m][1]),
             "weighted": _money(months[m][2] / Decimal(100))} for m in order]


@login_required
def forecast_view(request):
    _require(request.user, "opportunity", "view")
    filters = BoardFilterForm(request.GET or None)
    lines = forecast_rows(filters.apply(opportunity_type().visible(request.user)).select_related(None))
    return TemplateResponse(request, "sales/forecast.html", {
        "rows": lines, "filters": filters, "rt": opportunity_type(),
        "sum_count": sum(r["count"] for r in lines),
        "sum_total": sum((r["total"] for r in lines), Decimal(0)),
        "sum_weighted": sum((r["weighted"] for r in lines), Decimal(0)),
    })


@login_required
def opportunity_lookup(request):
    """HTMX autocomplete: visible opportunities matching the typed number/title/customer, narrowed
    to ?customer= when the form has chosen one (follow-ups, plan steps)."""
    allowed = any(request.user.has_right(module, action) for module, action in (
        ("opportunity", "view"), ("followup", "create"), ("followup", "edit"), ("planstep", "create")))
    if not allowed:
        raise PermissionDenied
    term = next((v for k, v in request.GET.items() if k.endswith("search") or k == "q"), "").strip()
    rt = registry.get("opportunity")
    params = {"q": term}
    customer = request.GET.get("customer", "")
    if customer.isdigit():
        params["customer"] = customer
    qs = rt.filterset(params, queryset=Opportunity.objects.visible_to(request.user), user=request.user).qs
    rows = qs.select_related("customer").order_by("-id")[:20]
    return render(request, "sales/partials/opportunity_options.html", {"rows": rows})
