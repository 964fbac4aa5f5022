from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehu.core.registry import BulkAction, RecordType, registry
from kehu.core.relations import Cascade, Protect

from .forms import ContactFilterSet, ContactForm, CustomerFilterSet, CustomerForm
from .models import Contact, Customer


@registry.register
class CustomerType(RecordType):
    model = Customer
    form = CustomerForm
    filterset = CustomerFilterSet
    list_columns = ["number", "name", "type", "level", "industry", "phone", "city", "owner", "updated_at"]
    extra_columns = ["source", "status", "grade", "region", "province", "email", "website", "employees",
                     "annual_revenue", "first_contact_date", "last_activity_at", "created_at", "tags"]
    sort_fields = ["id", "name", "updated_at", "created_at", "last_activity_at"]
    default_sort = "-id"
    list_select_related = ["owner"]  # dictionary values come from the cache (RecordType.prepare)
    detail_template = "customers/customer_detail.html"
    detail_fields = [
        "number", "name", "type", "level", "grade", "industry", "source", "status", "region", "country",
        "province", "city", "address", "phone", "email", "website", "employees", "annual_revenue", "needs",
        "first_contact_date", "owner", "deal_amount", "deal_products", "signed_on", "notes", "created_at",
        "created_by", "updated_at", "updated_by",
    ]
    export_fields = [
        "number", "name", "type", "level", "grade", "industry", "source", "status", "region", "country",
        "province", "city", "address", "phone", "email", "website", "employees", "annual_revenue", "needs",
        "first_contact_date", "owner", "deal_amount", "deal_products", "signed_on", "notes", "created_at",
        "updated_at", "tags",  # the import's column names: an export imports back (kehu/customers/imports.py)
    ]
    api_exclude = ["search_text", "name_key"]
    nav_icon = "ti-building-store"
    nav_section, nav_order = "customers", 10
    bulk_actions = [  # handlers: kehu.customers.views.CustomerBulkView
        "tag", "delete",
        BulkAction("transfer", _("Transfer to…"), "assign", "bulk_transfer", value="user"),
        BulkAction("release", _("Return to public pool"), "edit", "bulk_release", not_tabs=("pool",),
                   also=("pool.view",)),
        BulkAction("claim", _("Claim"), "edit", "bulk_claim", tabs=("pool",), also=("pool.view",)),
    ]
    search_placeholder = _("Number, name, pinyin, phone, e-mail, contact")
    relations = [
        # "open" is `Opportunity.objects.open()` once sales defines it
        Protect("opportunities", when=Q(closed_at__isnull=True),  # kehu.sales Opportunity.open_q()
                message=_("“%(record)s” has %(n)s open opportunities: close or move them before deleting "
                          "the customer.")),
        Cascade("contacts"),
        Cascade("followups"),
    ]

    def save_form(self, form, user):
        from .services import check_duplicates

        # the one duplicate rule of the UI, the API and imports (kehu/customers/services.py)
        check_duplicates(form.instance, user, allow_duplicate=form.cleaned_data.get("allow_duplicate", False))
        return form.save()

    def before_assign(self, obj, old_owner_id, by):
        from django.utils import timezone

        obj.last_activity_at = timezone.now()  # a new owner gets the full idle period
        obj.pool_warned_at = None
        if obj.owner_id is not None:
            obj.pool_entered_at = None

    def after_assign(self, obj, old_owner_id, by):
        from .services import owner_follows

        owner_follows(obj)

    def extend_api(self, router, out_schema):
        from .api import extend

        extend(router, out_schema, self)


@registry.register
class ContactType(RecordType):
    model = Contact
    form = ContactForm
    filterset = ContactFilterSet
    list_columns = ["name", "customer", "title", "mobile", "email", "is_primary"]
    extra_columns = ["gender", "phone", "wechat", "birthday", "created_at", "tags"]
    sort_fields = ["id", "name", "created_at"]
    default_sort = "-id"
    list_select_related = ["customer"]
    list_names = {"customer": ("name",)}  # a row names its customer: not the whole row joined
    export_fields = ["customer", "name", "gender", "title", "mobile", "phone", "email", "wechat", "birthday",
                     "is_primary", "notes", "owner", "created_at", "updated_at", "tags"]
    api_exclude = ["search_text"]
    bulk_actions = [  # handlers: kehu.customers.views.ContactBulkView
        "tag", "delete",
        BulkAction("vcard", _("Download vCards (.vcf)"), "export", "bulk_vcard"),
    ]
    nav_icon = "ti-address-book"
    nav_section, nav_order = "customers", 20
