"""What the customers app adds to the registries (kehu/core/registries.py)."""

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from kehu.core import registries as r

from . import home, search, tasks

r.nav_section("customers", _("Customers"), order=10)
r.rights_module("pool", _("Public pool"))
r.rights_module("quality", _("Data quality"))
r.default_rights({
    "supervisor": ["customer.*", "contact.*", "pool.view", "pool.assign", "quality.view"],
    "account_manager": ["customer.view", "customer.create", "customer.edit", "customer.export",
                        "contact.view", "contact.create", "contact.edit", "contact.delete", "contact.export",
                        "pool.view"],
    "executive": ["customer.view", "customer.export", "contact.view", "contact.export"],
    "service": ["customer.view", "contact.view"],
})

# (code, 中文, English); customer types and every "other" are built in: the code relies on them
OTHER = {"other"}
r.dictionary_kind("industry", _("Industry"), builtin=OTHER, seeds=[
    ("manufacturing", "制造业", "Manufacturing"), ("it", "信息技术", "Information technology"),
    ("retail", "零售", "Retail"), ("finance", "金融", "Finance"), ("education", "教育培训", "Education"),
    ("healthcare", "医疗健康", "Healthcare"), ("logistics", "物流", "Logistics"),
    ("construction", "建筑建材", "Construction"), ("energy", "能源电力", "Energy"),
    ("services", "专业服务", "Professional services"), ("other", "其他", "Other")])
r.dictionary_kind("customer_type", _("Customer type"), builtin=True, seeds=[
    ("potential", "潜在客户", "Potential"), ("intent", "意向客户", "Intent"), ("won", "成交客户", "Won"),
    ("lost", "流失客户", "Lost")])
r.dictionary_kind("customer_level", _("Customer level"), builtin=OTHER, seeds=[
    ("vip", "VIP客户", "VIP"), ("important", "重要客户", "Important"), ("normal", "普通客户", "Normal")])
r.dictionary_kind("customer_source", _("Customer source"), builtin=OTHER, seeds=[
    ("exhibition", "展会", "Exhibition"), ("referral", "转介绍", "Referral"), ("online_ads", "线上推广", "Online ads"),
    ("cold_call", "电话开发", "Cold call"), ("website", "官网咨询", "Website enquiry"), ("other", "其他", "Other")])
r.dictionary_kind("region", _("Sales region"), builtin=OTHER, seeds=[
    ("east", "华东", "East China"), ("north", "华北", "North China"), ("south", "华南", "South China"),
    ("central", "华中", "Central China"), ("southwest", "西南", "Southwest China"),
    ("northwest", "西北", "Northwest China"), ("northeast", "东北", "Northeast China"), ("overseas", "海外", "Overseas")])
# seeded since the first release for the service and order apps to come; they move there with them
r.dictionary_kind("service_type", _("Service type"), builtin=OTHER, seeds=[
    ("consultation", "咨询", "Consultation"), ("complaint", "投诉", "Complaint"), ("suggestion", "建议", "Suggestion"),
    ("repair", "维修", "Repair")])
r.dictionary_kind("payment_method", _("Payment method"), builtin=OTHER, seeds=[
    ("cash", "现金", "Cash"), ("card", "银行卡", "Card"), ("transfer", "银行转账", "Bank transfer"),
    ("alipay", "支付宝", "Alipay"), ("wechat_pay", "微信支付", "WeChat Pay")])

r.search_provider("customers", _("Customers"), right="customer.view", results=search.customers,
                  template="customers/search_customers.html", placeholder=_("Search customers, pinyin, phone…"),
                  order=10)
r.search_provider("contacts", _("Contacts"), right="contact.view", results=search.contacts,
                  template="customers/search_contacts.html", order=20)

r.home_panel("pool", _("Going back to the public pool"), right="customer.view", build=home.pool_panel,
             column="side", order=120, placeholder=False)
r.home_panel("customers", _("My recently updated customers"), right="customer.view", build=home.customers_panel,
             column="side", icon="ti-building-store", rows="xx", order=130)

r.job(tasks.pool_sweep, daily_at=lambda: getattr(settings, "KEHU_POOL_SWEEP_HOUR", 1))
# the data-quality scan every night, its counts by e-mail once a week (kehu/customers/quality.py)
r.job(tasks.quality_daily, daily_at=lambda: getattr(settings, "KEHU_QUALITY_HOUR", 4))
from . import imports  # noqa: E402, F401  (the customer and contact importers: kehu/core/imports)

r.nav_entry("imports", _("Import history"), "core:import_history", right="customer.create", section="customers",
            icon="ti-upload", order=90)
r.nav_entry("quality", _("Data quality"), "customers:quality", right="quality.view", section="customers",
            icon="ti-checkup-list", order=95)
