"""The contract's pages besides the generic ones: the detail page with its execution progress and
the contract lookup of the order form (narrowed to the order's customer)."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import path

from kehu.core.registry import registry
from kehu.core.views import RecordDetailView, record_urls

from . import contracts
from .models import Contract


class ContractDetailView(RecordDetailView):
    def extra_context(self, obj):
        renewal = Contract._base_manager.filter(previous=obj, deleted_at__isnull=True).first()
        return {"progress": contracts.progress(obj), "renewal": renewal}


def contract_lookup(request):
    """HTMX autocomplete of an order's contract: visible contracts matching the typed number or
    title, narrowed to ?customer= (the order's customer) when the form has one."""
    if not any(request.user.has_right(m, a) for m, a in (("contract", "view"), ("order", "create"),
                                                          ("order", "edit"))):
        raise PermissionDenied
    term = next((v for k, v in request.GET.items() if k.endswith("search") or k == "q"), "").strip()
    params = {"q": term}
    customer = request.GET.get("customer", "")
    if customer.isdigit():
        params["customer"] = customer
    rt = registry.get("contract")
    qs = rt.filterset(params, queryset=Contract.objects.visible_to(request.user), user=request.user).qs
    rows = qs.exclude(status__in=("completed", "terminated")).select_related("customer").order_by("-id")[:20]
    return render(request, "orders/partials/contract_options.html", {"rows": rows})


def contract_urls() -> list:
    rt = registry.get("contract")
    return [path("contracts/lookup/", contract_lookup, name="contract_lookup"),
            *record_urls(rt, {"detail": ContractDetailView})]
