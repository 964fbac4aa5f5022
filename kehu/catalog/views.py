"""The product pages beyond the generic ones: the list's low-stock tab 查询库存, and the stock of a
product (on hand per warehouse, its ledger) on its page."""

from django.utils.translation import gettext_lazy as _

from kehu.core.views import RecordDetailView, RecordListView

from .models import Product, StockBalance, StockMove, Warehouse

LEDGER_ROWS = 100


class ProductListView(RecordListView):
    """Products, with the tab 查询库存: the stocked products below their low-stock threshold."""

    def filtered_queryset(self):
        self.tab = "low" if self.request.GET.get("tab") == "low" else "all"
        qs = super().filtered_queryset()
        return qs.filter(Product.low_stock_q()) if self.tab == "low" else qs

    def extra_context(self):
        return {"tab": self.tab, "tabs": [("all", _("All products")), ("low", _("Low stock"))]}


class ProductDetailView(RecordDetailView):
    def extra_context(self, obj):
        user = self.request.user
        if not user.has_right("stock", "view"):
            return {}
        ctx = {"extra_tabs": [("ledger", _("Stock ledger"))] if obj.is_stocked else []}
        tab = self.request.GET.get("tab", "details")
        if tab == "details" and obj.is_stocked:
            balances = {b.warehouse_id: b for b in StockBalance.objects.filter(product=obj)}
            ctx["stock_rows"] = [(wh, balances[wh.pk].on_hand if wh.pk in balances else None)
                                 for wh in Warehouse.objects.order_by("-is_default", "code")
                                 if wh.active or wh.pk in balances]
        elif tab == "ledger":
            ctx["moves"] = list(StockMove.objects.filter(product=obj).select_related("warehouse", "created_by")
                                .order_by("-id")[:LEDGER_ROWS])
            ctx["ledger_rows"] = LEDGER_ROWS
        return ctx
