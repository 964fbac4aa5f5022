"""The column names other CRMs write in their exports, as data: preset -> record type -> {column
header: import field}. A header is compared by `coerce.key` (case, spaces and punctuation ignored).
Fields named here that an importer does not have are ignored."""

from django.utils.translation import gettext_lazy as _

PRESET_LABELS = {
    "generic": _("Spreadsheet (Chinese or English headers)"),
    "salesforce": "Salesforce",
    "odoo": "Odoo",
    "hubspot": "HubSpot",
    "zoho": "Zoho CRM",
    "krayin": "Krayin",
}

PRESETS: dict[str, dict[str, dict[str, str]]] = {
    "generic": {
        "customer": {
            "客户名称": "name", "公司名称": "name", "单位名称": "name", "企业名称": "name", "客户": "name",
            "公司": "name", "Company": "name", "Company Name": "name", "Customer": "name",
            "电话": "phone", "公司电话": "phone", "座机": "phone", "Tel": "phone", "Telephone": "phone",
            "邮箱": "email", "电子邮箱": "email", "Email": "email", "E-mail": "email",
            "网址": "website", "官网": "website", "Web": "website",
            "地址": "address", "详细地址": "address", "省份": "province", "省": "province", "城市": "city", "市": "city",
            "国家": "country", "行业": "industry", "所属行业": "industry", "客户来源": "source", "来源": "source",
            "客户类型": "type", "客户级别": "level", "级别": "level", "等级": "grade", "区域": "region",
            "销售区域": "region", "员工数": "employees", "人数": "employees", "年营业额": "annual_revenue",
            "备注": "notes", "说明": "notes", "需求": "needs", "负责人": "owner", "销售": "owner",
            "业务员": "owner", "标签": "tags_text", "首次联系": "first_contact_date",
            "联系人": "contact_name", "联系人姓名": "contact_name", "姓名": "contact_name", "Contact": "contact_name",
            "手机": "contact_mobile", "手机号": "contact_mobile", "手机号码": "contact_mobile", "Mobile": "contact_mobile",
            "联系人电话": "contact_phone", "联系人邮箱": "contact_email", "职务": "contact_title", "职位": "contact_title",
            "微信": "contact_wechat", "微信号": "contact_wechat", "性别": "contact_gender",
        },
        "contact": {
            "姓名": "name", "联系人": "name", "联系人姓名": "name", "Name": "name", "手机": "mobile", "手机号": "mobile",
            "手机号码": "mobile", "电话": "phone", "座机": "phone", "邮箱": "email", "电子邮箱": "email",
            "职务": "title", "职位": "title", "微信": "wechat", "微信号": "wechat", "性别": "gender", "生日": "birthday",
            "客户": "customer", "客户名称": "customer", "公司": "customer", "公司名称": "customer", "所属客户": "customer",
            "主联系人": "is_primary", "备注": "notes", "标签": "tags_text",
        },
        "product": {
            "产品名称": "name", "名称": "name", "品名": "name", "编码": "code", "产品编码": "code", "型号": "model",
            "规格": "spec", "单位": "unit", "单价": "price", "价格": "price", "售价": "price", "成本": "cost",
            "成本价": "cost", "分类": "category", "备注": "description", "标签": "tags_text",
        },
        "order": {  # a row per order line (kehu/orders/imports.py)
            "订单号": "external_number", "订单编号": "external_number", "外部单号": "external_number",
            "单号": "external_number", "Order No": "external_number", "Order Number": "external_number",
            "Order Reference": "external_number", "客户": "customer", "客户名称": "customer",
            "客户编号": "customer", "Customer": "customer", "联系人": "contact", "Contact": "contact",
            "订单日期": "order_date", "下单日期": "order_date", "日期": "order_date", "Order Date": "order_date",
            "交货日期": "promised_date", "交期": "promised_date", "Delivery Date": "promised_date",
            "收货地址": "delivery_address", "送货地址": "delivery_address", "Delivery Address": "delivery_address",
            "付款方式": "payment_method", "Payment Method": "payment_method", "备注": "notes", "Notes": "notes",
            "负责人": "owner", "业务员": "owner", "销售": "owner", "Salesperson": "owner", "标题": "title",
            "产品编码": "line_product", "商品编码": "line_product", "编码": "line_product", "SKU": "line_product",
            "Product Code": "line_product", "产品名称": "line_description", "商品名称": "line_description",
            "品名": "line_description", "Product": "line_description", "Product Name": "line_description",
            "Description": "line_description", "数量": "line_quantity", "Quantity": "line_quantity",
            "Qty": "line_quantity", "单价": "line_unit_price", "Unit Price": "line_unit_price",
            "折扣": "line_discount_pct", "折扣(%)": "line_discount_pct", "Discount": "line_discount_pct",
            "Discount (%)": "line_discount_pct", "税率": "line_tax_rate", "税率(%)": "line_tax_rate",
            "Tax Rate": "line_tax_rate",
        },
    },
    "salesforce": {
        "customer": {
            "Account Name": "name", "Phone": "phone", "Website": "website", "Industry": "industry",
            "Type": "type", "Account Source": "source", "Rating": "level", "Billing Street": "address",
            "Billing City": "city", "Billing State/Province": "province", "Billing Country": "country",
            "Annual Revenue": "annual_revenue", "Employees": "employees", "Description": "notes",
            "Account Owner": "owner",
        },
        "contact": {
            "First Name": "first_name", "Last Name": "last_name", "Title": "title", "Email": "email",
            "Phone": "phone", "Mobile": "mobile", "Account Name": "customer", "Birthdate": "birthday",
            "Description": "notes",
        },
    },
    "odoo": {
        "customer": {
            "Name": "name", "Display Name": "name", "Phone": "phone", "Email": "email", "Website": "website",
            "Street": "address", "City": "city", "State": "province", "Country": "country",
            "Industry": "industry", "Salesperson": "owner", "Tags": "tags_text", "Notes": "notes",
        },
        "contact": {
            "Name": "name", "Related Company": "customer", "Company Name": "customer", "Job Position": "title",
            "Email": "email", "Phone": "phone", "Mobile": "mobile", "Tags": "tags_text", "Notes": "notes",
        },
        "order": {  # sale.order.line: Order Reference / Customer / Product / Quantity / Unit Price...
            "Order Reference": "external_number", "Customer": "customer", "Order Date": "order_date",
            "Delivery Date": "promised_date", "Salesperson": "owner", "Product/Internal Reference": "line_product",
            "Product": "line_description", "Description": "line_description", "Quantity": "line_quantity",
            "Unit Price": "line_unit_price", "Discount (%)": "line_discount_pct",
        },
    },
    "hubspot": {
        "customer": {
            "Company name": "name", "Name": "name", "Phone Number": "phone", "Website URL": "website",
            "Company Domain Name": "website", "Industry": "industry", "Street Address": "address",
            "City": "city", "State/Region": "province", "Country/Region": "country",
            "Number of Employees": "employees", "Annual Revenue": "annual_revenue", "Description": "notes",
            "Company owner": "owner", "Type": "type",
        },
        "contact": {
            "First Name": "first_name", "Last Name": "last_name", "Email": "email", "Phone Number": "phone",
            "Mobile Phone Number": "mobile", "Job Title": "title", "Company Name": "customer",
            "Associated Company": "customer", "Contact owner": "owner",
        },
    },
    "zoho": {
        "customer": {
            "Account Name": "name", "Phone": "phone", "Website": "website", "Industry": "industry",
            "Account Type": "type", "Rating": "level", "Employees": "employees", "Annual Revenue": "annual_revenue",
            "Billing Street": "address", "Billing City": "city", "Billing State": "province",
            "Billing Country": "country", "Description": "notes", "Account Owner": "owner", "Tag": "tags_text",
        },
        "contact": {
            "First Name": "first_name", "Last Name": "last_name", "Email": "email", "Phone": "phone",
            "Mobile": "mobile", "Title": "title", "Account Name": "customer", "Date of Birth": "birthday",
            "Description": "notes", "Tag": "tags_text",
        },
    },
    "krayin": {
        "customer": {  # organizations
            "Name": "name", "Address": "address", "Sales Owner": "owner", "name": "name",
        },
        "contact": {  # persons: emails and contact numbers are lists; the first is taken
            "Name": "name", "Emails": "email", "Contact Numbers": "mobile", "Organization": "customer",
            "Job Title": "title", "Sales Owner": "owner",
        },
    },
    # the columns of a .vcf file (kehu/core/imports/vcard.py): chosen by itself for a vCard upload,
    # not offered in the upload form's list
    "vcard": {
        "contact": {
            "FN": "name", "ORG": "customer", "TITLE": "title", "TEL (CELL)": "mobile", "TEL": "phone",
            "TEL (other)": "more_phones", "EMAIL": "email", "EMAIL (other)": "more_emails", "X-WECHAT": "wechat",
            "GENDER": "gender", "BDAY": "birthday", "NOTE": "notes", "CATEGORIES": "tags_text", "PHOTO": "photo",
        },
        "customer": {
            "ORG": "name", "FN": "contact_name", "TITLE": "contact_title", "TEL (CELL)": "contact_mobile",
            "TEL": "contact_phone", "EMAIL": "contact_email", "X-WECHAT": "contact_wechat",
            "GENDER": "contact_gender", "BDAY": "contact_birthday", "ADR": "address", "URL": "website",
            "NOTE": "notes", "CATEGORIES": "tags_text",
        },
    },
}
