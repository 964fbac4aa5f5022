"""What the catalog app adds to the registries (kehu/core/registries.py)."""

from django.utils.translation import gettext_lazy as _

from kehu.core import registries as r

from . import imports, search  # noqa: F401  (the product importer: kehu/core/imports)

r.nav_section("catalog", _("Products"), order=25)
# the stock ledger's module, named for what its rights allow (view stock, receive = create, adjust = edit)
r.rights_module("stock", _("Stock"))
r.default_rights({
    # stock.view: stock and its ledger; stock.create: receive stock; stock.edit: adjust it
    "supervisor": ["product.*", "productcategory.*", "warehouse.view", "stock.view", "stock.create", "stock.edit",
                   "stock.export"],
    "account_manager": ["product.view", "productcategory.view", "warehouse.view", "stock.view"],
    "executive": ["product.view", "product.export", "productcategory.view", "warehouse.view", "stock.view",
                  "stock.export"],
    "service": ["product.view", "productcategory.view", "warehouse.view", "stock.view"],
})
r.dictionary_kind("product_unit", _("Product unit"), seeds=[
    ("piece", "个", "pc"), ("item", "件", "item"), ("unit", "台", "unit"), ("set", "套", "set"),
    ("box", "箱", "box"), ("kg", "千克", "kg"), ("hour", "小时", "hour"), ("time", "次", "time"),
    ("license", "套授权", "licence"), ("year", "年", "year")])
r.search_provider("products", _("Products"), right="product.view", results=search.products,
                  template="catalog/search_products.html", order=30)
