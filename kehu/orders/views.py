"""The pages of quotations and orders besides the generic ones: the lines editor (HTMX: a line is
saved as the user types and the totals follow), the shipment form and the quotation's PDF."""

import json
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views import View

from kehu.core.views import RecordDetailView, RecordViewMixin, add_new_errors

from . import services
from .forms import line_form


def lines_context(rt, doc, user, forms=None, new_form=None):
    lines = list(doc.lines.select_related("product"))
    editable = services.lines_editable(doc) and user.has_right(rt.module, "edit")
    forms = forms or {}
    LineForm = line_form(doc.lines.model)
    rows = [(line, forms.get(line.pk) or (LineForm(instance=line, prefix=f"l{line.pk}") if editable else None))
            for line in lines]
    return {"rows": rows, "editable": editable,
            "new_form": new_form or (LineForm(prefix="new", initial={"quantity": Decimal(1)}) if editable else None),
            "is_order": rt.key == "order"}


class DocumentDetailView(RecordDetailView):
    def extra_context(self, obj):
        ctx = lines_context(self.rt, obj, self.request.user)  # rt and object: the detail view's own
        if self.rt.key == "order":
            ctx["shipments"] = list(obj.shipments.select_related("warehouse", "created_by").prefetch_related(
                "lines__order_line__product"))
            ctx["can_ship"] = (obj.status in ("created", "processing") and self.request.user.has_right("order", "edit")
                               and any(line.to_ship > 0 for line, _f in ctx["rows"]))
            from .models import AfterSalesRequest

            ctx["after_sales"] = list(AfterSalesRequest.objects.filter(order_line__order=obj)
                                      .select_related("order_line__product", "created_by"))
            ctx["returnable_lines"] = [line for line, _f in ctx["rows"] if line.stocked and line.shipped_quantity > 0]
            ctx["after_sales_kinds"] = AfterSalesRequest.Kind.choices
            ctx["can_after_sales"] = (bool(ctx["returnable_lines"]) and obj.status != "cancelled"
                                      and self.request.user.has_right("order", "edit"))
        else:
            ctx["orders"] = list(obj.orders.filter(deleted_at__isnull=True))
            ctx["revisions"] = [r for r in (obj.previous, getattr(obj, "next_revision", None)) if r is not None]
        return ctx


class LinesView(RecordViewMixin, View):
    """POST a line (new or changed) or a delete; answers the lines table (HTMX) or goes back."""

    def post(self, request, pk, line_pk=None, delete=False):
        if not request.user.has_right(self.rt.module, "edit"):
            raise PermissionDenied
        doc = self.get_object()
        line = get_object_or_404(doc.lines, pk=line_pk) if line_pk else None
        had_lines = doc.lines.exists()
        prefix = f"l{line.pk}" if line else "new"
        LineForm = line_form(doc.lines.model)
        form = None
        try:
            if delete:
                services.delete_line(doc, request.user, line)
            else:
                form = LineForm(request.POST, instance=line, prefix=prefix)
                if not form.is_valid():
                    raise ValidationError(form.errors.as_data())
                line = services.save_line(doc, request.user,
                                          {k: form.cleaned_data.get(k) for k in services.LINE_FIELDS}, line)
                form = None
        except ValidationError as exc:
            if form is None or not form.errors:
                form = LineForm(request.POST, instance=line, prefix=prefix)
                form.is_valid()
                add_new_errors(form, exc)
            if not request.htmx:
                messages.error(request, "; ".join(exc.messages))
        if not request.htmx:
            return HttpResponseRedirect(self.rt.get_absolute_url(doc))
        doc.refresh_from_db()
        if line is not None and not delete and "row" in request.GET:
            # a change typed in a row: its amounts, its errors and the totals (out of band), the
            # inputs left alone so the cursor stays where the user types
            line.refresh_from_db()
            ctx = {"rt": self.rt, "object": doc, "line": line, "form": form, "is_order": self.rt.key == "order"}
            response = TemplateResponse(request, "orders/partials/line_update.html", ctx)
            response["HX-Trigger"] = json.dumps({"kehu:version": {"value": doc.version}})
            return response
        forms = {line.pk: form} if form is not None and line is not None and line.pk else {}
        new_form = form if form is not None and prefix == "new" else None
        response = TemplateResponse(request, "orders/partials/lines.html", {
            "rt": self.rt, "object": doc, **lines_context(self.rt, doc, request.user, forms, new_form)})
        if had_lines != doc.lines.exists():  # the first line or the last one: what the header offers changes
            response["HX-Refresh"] = "true"
        response["HX-Trigger"] = json.dumps({"kehu:version": {"value": doc.version}})
        return response


class ShipmentView(RecordViewMixin, View):
    """Record a shipment of an order: a quantity per goods line (what remains, by default)."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return super().dispatch(request, *args, **kwargs)
        if not request.user.has_right("order", "edit"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def context(self, order, errors=None, data=None):
        from kehu.catalog.models import Warehouse

        lines = [ln for ln in order.lines.select_related("product") if ln.stocked]
        data = data or {}
        rows = [(ln, data.get(f"line_{ln.pk}", f"{ln.to_ship.normalize():f}" if ln.to_ship else "0"),
                 (errors or {}).get(f"line_{ln.pk}")) for ln in lines]
        warehouses = list(Warehouse.objects.filter(active=True).order_by("-is_default", "name"))
        return {"rt": self.rt, "object": order, "rows": rows, "warehouses": warehouses, "errors": errors or {},
                "data": data}

    def get(self, request, pk):
        order = self.get_object()
        return TemplateResponse(request, "orders/shipment_form.html", self.context(order))

    def post(self, request, pk):
        from kehu.catalog.models import Warehouse

        order = self.get_object()
        quantities = {key[5:]: value for key, value in request.POST.items()
                      if key.startswith("line_") and key[5:].isdigit()}
        warehouse = None
        if request.POST.get("warehouse"):
            warehouse = Warehouse.objects.filter(pk=request.POST["warehouse"], active=True).first()
            if warehouse is None:
                raise Http404
        try:
            services.record_shipment(order, request.user, quantities, warehouse=warehouse,
                                     carrier=request.POST.get("carrier", "")[:100],
                                     tracking_number=request.POST.get("tracking_number", "")[:100],
                                     notes=request.POST.get("notes", "")[:300])
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"lines": exc.messages}
            return TemplateResponse(request, "orders/shipment_form.html",
                                    self.context(order, errors, request.POST), status=422)
        messages.success(request, _("Shipment recorded for %(order)s.") % {"order": order.number})
        return HttpResponseRedirect(self.rt.get_absolute_url(order))


def product_lookup(request):
    """HTMX autocomplete of a document line's product: active products matching the typed code,
    name or pinyin (the product list's own search)."""
    from django.shortcuts import render

    from kehu.catalog.models import Product
    from kehu.core.registry import registry

    if not any(request.user.has_right(m, a) for m, a in (("product", "view"), ("order", "edit"),
                                                          ("quotation", "edit"))):
        raise PermissionDenied
    term = next((v for k, v in request.GET.items() if k.endswith("search") or k == "q"), "").strip()
    qs = Product.objects.filter(active=True)
    if term and "product" in registry.keys() and registry.get("product").filterset is not None:
        qs = registry.get("product").filterset({"q": term}, queryset=qs, user=request.user).qs
    rows = qs.select_related("unit").order_by("code", "id")[:20]
    return render(request, "orders/partials/product_options.html", {"rows": rows})


class DocumentPdfView(RecordViewMixin, View):
    """The quotation (报价单) or order confirmation as the customer gets it: a PDF with the lines,
    the totals in figures and in Chinese capital numerals (大写金额)."""

    def get(self, request, pk):
        from kehu.core.pdf import pdf_response, render_pdf

        doc = self.get_object()
        lines = list(doc.lines.select_related("product"))
        pdf = render_pdf("orders/pdf/document.html", {"object": doc, "lines": lines, "is_order": self.rt.key == "order",
                                                      "document_title": str(doc)}, request=request)
        return pdf_response(f"{doc.number}.pdf", pdf, inline="inline" in request.GET)


class AfterSalesView(RecordViewMixin, View):
    """POST a new after-sales request on one of the order's lines, or complete / reject one
    (`action`); back to the order page with the outcome, or the errors on the order page's form."""

    def post(self, request, pk, request_pk=None, action=None):
        from . import aftersales
        from .models import AfterSalesRequest

        if not request.user.has_right("order", "edit"):
            raise PermissionDenied
        if action not in (None, "complete", "reject"):
            raise Http404
        order = self.get_object()
        try:
            if request_pk is None:
                line = get_object_or_404(order.lines, pk=request.POST.get("order_line") or 0)
                aftersales.request_after_sales(line, request.user, kind=request.POST.get("kind", ""),
                                               quantity=request.POST.get("quantity", ""),
                                               reason=request.POST.get("reason", ""))
                messages.success(request, _("After-sales request recorded."))
            else:
                item = get_object_or_404(AfterSalesRequest, pk=request_pk, order_line__order=order)
                if action == "complete":
                    aftersales.complete(item, request.user, refund=request.POST.get("refund") or None)
                    messages.success(request, _("After-sales request completed."))
                else:
                    aftersales.reject(item, request.user, reason=request.POST.get("reason", ""))
                    messages.success(request, _("After-sales request rejected."))
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
            for problems in errors.values():
                for problem in problems:
                    messages.error(request, problem)
            return HttpResponseRedirect(self.rt.get_absolute_url(order) + "#after-sales")
        return HttpResponseRedirect(self.rt.get_absolute_url(order) + "#after-sales")
