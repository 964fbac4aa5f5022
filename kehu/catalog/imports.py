"""Import of products (kehu/core/imports), registered from registrations.py. Rows are validated by
ProductForm; a product is the same as a stored one when its code is (the code is unique); the
category is found by its name, or by its path of names ("电子产品/手机") when names repeat."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kehu.core.imports.base import Importer, register

from .forms import ProductForm
from .models import Product, ProductCategory


def category_index() -> tuple[dict[str, list[ProductCategory]], dict[str, ProductCategory]]:
    """({name: categories}, {"parent/child" path of names: category}) of the whole tree (a small
    table, read once per run)."""
    cats = list(ProductCategory.objects.all())
    by_id = {c.pk: c for c in cats}
    by_name: dict[str, list[ProductCategory]] = {}
    by_path: dict[str, ProductCategory] = {}
    for c in cats:
        by_name.setdefault(c.name.strip().lower(), []).append(c)
        names = [by_id[int(pk)].name for pk in c.path.strip("/").split("/") if pk and int(pk) in by_id]
        by_path["/".join(n.strip().lower() for n in names)] = c
    return by_name, by_path


class ImportProductForm(ProductForm):
    """ProductForm without the code's unique check: a stored code is a duplicate the import matches
    (update or skip, `find_existing`), not a bad row. Every other rule is the form's."""

    def validate_unique(self):
        exclude = self._get_validation_exclusions()
        exclude.add("code")
        try:
            self.instance.validate_unique(exclude=exclude)
        except ValidationError as e:
            self._update_errors(e)


class ProductImporter(Importer):
    key = "product"
    form_class = ImportProductForm
    exclude = ("image",)  # a picture is not a cell
    duplicate_fields = ("code",)
    unique_key = True  # the code is unique: "create anyway" skips a known code
    aliases = {
        "code": ["编码", "产品编码", "商品编码", "物料编码", "货号", "sku", "item code", "product code",
                 "internal reference", "default_code"],
        "name": ["产品名称", "商品名称", "品名", "product name", "product"],
        "category": ["分类", "类别", "产品分类", "product category", "categ_id"],
        "unit": ["单位", "计量单位", "uom", "unit of measure"],
        "list_price": ["单价", "售价", "价格", "sales price", "price", "unit price"],
        "cost": ["成本", "成本价", "进价", "standard_price"],
        "tax_rate": ["税率", "tax", "tax rate"],
        "low_stock_threshold": ["库存下限", "安全库存", "最低库存", "minimum stock"],
    }

    def within_file_keys(self, row):
        code = (row.data.get("code") or "").strip().lower()
        return [("code", code)] if code else []

    def resolve_refs(self, rows, ctx):
        """Categories by name or path of names: the tree is read once per run."""
        if getattr(ctx, "categories", None) is None:
            ctx.categories = category_index()
        by_name, by_path = ctx.categories
        column = ctx.column_of.get("category", "category")
        for row in rows:
            text = row.refs.get("category")
            if text is None:
                continue
            key = "/".join(part.strip().lower() for part in text.replace("\\", "/").replace(">", "/").split("/"))
            found = [by_path[key]] if key in by_path else by_name.get(key, [])
            if len(found) == 1:
                row.data["category"] = str(found[0].pk)
            elif found:
                row.error(column, _("Several product categories are named “%(name)s”: give its path, as "
                                    "“parent/child”.") % {"name": text})
            else:
                row.error(column, _("No product category “%(name)s”. Add it under Products → Categories "
                                    "first.") % {"name": text})
            for name in set(row.refs) - {"category"}:
                row.error(ctx.column_of.get(name, name), _("Cannot be imported."))

    def find_existing(self, rows, ctx):
        codes = {(row.form.instance.code or "").strip(): row for row in rows if row.form is not None}
        if not codes:
            return
        for product in Product.objects.filter(code__in=list(codes)):
            row = codes.get(product.code)
            if row is not None:
                row.existing = (product.pk, self.label_of(product), [_("same product code")], True)

    def label_of(self, obj) -> str:
        return f"{obj.code} {obj.name}"


register(ProductImporter())
