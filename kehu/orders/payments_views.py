"""The payments panel of an order (or a contract) page: ordered / invoiced / received /
outstanding side by side, the payment plan, payments and refunds, invoices, each with its form
(HTMX: the panel is answered again, errors on their fields). Every write is a service call of
kehu/orders/payments.py, the same the API and the tests use."""

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.views import View

from kehu.core.models import DictItem
from kehu.core.views import RecordViewMixin, add_new_errors

from . import payments
from .models import Invoice

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _money_field(label, required=True, **kwargs):
    return forms.DecimalField(label=label, max_digits=18, decimal_places=2, required=required,
                              widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}), **kwargs)


class PaymentForm(forms.Form):
    amount = _money_field(_("Amount"))
    received_on = forms.DateField(label=_("Date"), widget=DATE)
    method = forms.ModelChoiceField(queryset=DictItem.objects.none(), label=_("Payment method"), required=False)
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False,
                                help_text=_("Bank transfer number, cheque number…"))
    notes = forms.CharField(label=_("Notes"), max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["method"].queryset = DictItem.objects.filter(kind="payment_method", active=True)
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)


class InvoiceRequestForm(forms.Form):
    type = forms.ChoiceField(label=_("Type"), choices=Invoice.Type.choices)
    amount = _money_field(_("Amount"), help_text=_("The invoice's total, tax included."))
    tax = _money_field(_("Tax"), required=False)
    title = forms.CharField(label=_("Invoice title"), max_length=200, required=False,
                            help_text=_("抬头: the buyer's name"))
    tax_id = forms.CharField(label=_("Taxpayer ID"), max_length=30, required=False)
    notes = forms.CharField(label=_("Notes"), max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)


def panel_context(rt, doc, user, **forms_):
    from django.utils import timezone

    can_pay = user.has_right("payment", "create")
    can_invoice = user.has_right("invoice", "create")
    is_open = doc.status not in ("cancelled", "terminated")
    today = timezone.localdate()
    summary = payments.summary(doc)
    instalments = list(doc.instalments.all())
    covered = Decimal(0)
    for inst in instalments:  # what the payments cover, in due order
        covered += inst.amount
        inst.paid = covered <= doc.amount_received
        inst.overdue = not inst.paid and inst.due_on < today
    ctx = {
        "rt": rt, "document": doc, "summary": summary, "instalments": instalments,
        "is_order": payments.is_order(doc),
        "payments": (list(doc.payments.filter(deleted_at__isnull=True).select_related("method", "created_by")
                          .order_by("-received_on", "-id")) if user.has_right("payment", "view") else None),
        "invoices": (list(doc.invoices.filter(deleted_at__isnull=True).order_by("-invoiced_on", "-id"))
                     if user.has_right("invoice", "view") else None),
        "can_pay": can_pay and is_open and summary["outstanding"] > 0, "can_refund": can_pay and doc.amount_received > 0,
        "can_plan": can_pay and is_open, "can_invoice": can_invoice and is_open and summary["to_invoice"] > 0,
        "panel_url": f"{rt.get_absolute_url(doc)}payments/",
        "open_form": forms_.pop("open_form", ""),
        "plan_errors": forms_.pop("plan_errors", None), "plan_rows": forms_.pop("plan_rows", None),
    }
    initial = {"received_on": today}
    ctx["payment_form"] = forms_.get("payment_form") or PaymentForm(
        prefix="pay", initial={**initial, "amount": doc.outstanding or None, "method": getattr(doc, "payment_method_id", None)})
    ctx["refund_form"] = forms_.get("refund_form") or PaymentForm(prefix="refund", initial=initial)
    ctx["invoice_form"] = forms_.get("invoice_form") or InvoiceRequestForm(
        prefix="inv", initial={"amount": summary["to_invoice"] or None, "title": doc.customer.name})
    if ctx["plan_rows"] is None:
        ctx["plan_rows"] = [{"due_on": i.due_on.isoformat(), "amount": i.amount, "notes": i.notes}
                            for i in instalments] or [{"due_on": "", "amount": summary["total"], "notes": ""}]
    ctx["plan_blank"] = range(2)
    # lines changed after the plan was made: its instalments no longer add up to the total
    planned = sum((i.amount for i in instalments), Decimal(0))
    ctx["plan_sum"] = planned if instalments and planned != summary["total"] else None
    return ctx


class PaymentsPanelView(RecordViewMixin, View):
    """GET: the panel; POST /payments/<what>/: what ∈ payment, refund, plan, invoice."""

    def get(self, request, pk):
        doc = self.get_object()
        return render(request, "orders/partials/payments_panel.html", panel_context(self.rt, doc, request.user))

    def post(self, request, pk, what):
        doc = self.get_object()
        module = "invoice" if what == "invoice" else "payment"
        if not request.user.has_right(module, "create"):
            raise PermissionDenied
        handler = {"payment": self.payment, "refund": self.refund, "plan": self.plan, "invoice": self.invoice}.get(what)
        if handler is None:
            raise Http404
        extra, message = handler(request, doc)
        if extra is None:
            if not request.htmx:
                messages.success(request, message)
                return HttpResponseRedirect(self.rt.get_absolute_url(doc))
            doc.refresh_from_db()
            response = render(request, "orders/partials/payments_panel.html",
                              {**panel_context(self.rt, doc, request.user), "notice": message})
            response["HX-Trigger"] = '{"kehu:payments": {}}'
            return response
        if not request.htmx:
            messages.error(request, _("Please correct the errors below."))
        return TemplateResponse(request, "orders/partials/payments_panel.html",
                                panel_context(self.rt, doc, request.user, open_form=what, **extra))

    def _money(self, request, doc, prefix, run):
        form = PaymentForm(request.POST, prefix=prefix)
        if form.is_valid():
            data = form.cleaned_data
            try:
                run(doc, data["amount"], request.user, received_on=data["received_on"], method=data["method"],
                    reference=data["reference"], notes=data["notes"])
                return None
            except ValidationError as exc:
                add_new_errors(form, exc)
        return form

    def payment(self, request, doc):
        form = self._money(request, doc, "pay", payments.record_payment)
        if form is None:
            return None, _("Payment recorded.")
        return {"payment_form": form}, ""

    def refund(self, request, doc):
        form = self._money(request, doc, "refund", payments.record_refund)
        if form is None:
            return None, _("Refund recorded.")
        return {"refund_form": form}, ""

    def invoice(self, request, doc):
        form = InvoiceRequestForm(request.POST, prefix="inv")
        if form.is_valid():
            data = form.cleaned_data
            try:
                payments.request_invoice(doc, data["amount"], data["tax"], data["type"], request.user,
                                         title=data["title"], tax_id=data["tax_id"], notes=data["notes"])
                return None, _("Invoice requested.")
            except ValidationError as exc:
                add_new_errors(form, exc)
        return {"invoice_form": form}, ""

    def plan(self, request, doc):
        rows = [{"due_on": d.strip(), "amount": a.strip(), "notes": n.strip()}
                for d, a, n in zip(request.POST.getlist("due_on"), request.POST.getlist("amount"),
                                   request.POST.getlist("notes"), strict=False)]
        rows = [r for r in rows if r["due_on"] or r["amount"] or r["notes"]]
        try:
            payments.set_plan(doc, rows, request.user)
            return None, _("Payment plan saved.")
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"instalments": exc.messages}
            for i, row in enumerate(rows):
                row["errors"] = {k.rsplit(".", 1)[1]: v for k, v in errors.items()
                                 if k.startswith(f"instalments.{i}.")}
            return {"plan_errors": errors.get("instalments") or errors.get("amount"), "plan_rows": rows}, ""


def order_lookup(request):
    """HTMX autocomplete of an invoice's order: visible orders matching the typed number or title."""
    from kehu.core.registry import registry

    from .models import Order

    if not any(request.user.has_right(m, a) for m, a in (("order", "view"), ("invoice", "create"))):
        raise PermissionDenied
    term = next((v for k, v in request.GET.items() if k.endswith("search") or k == "q"), "").strip()
    rt = registry.get("order")
    qs = rt.filterset({"q": term}, queryset=Order.objects.visible_to(request.user), user=request.user).qs
    rows = qs.select_related("customer").order_by("-id")[:20]
    return render(request, "orders/partials/order_options.html", {"rows": rows})
