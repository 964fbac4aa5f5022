from django.db import migrations

# (kind, code, 中文, English); codes marked builtin are relied on by the code.
ITEMS = {
    "customer_type": [("potential", "潜在客户", "Potential"), ("intent", "意向客户", "Intent"),
                      ("won", "成交客户", "Won"), ("lost", "流失客户", "Lost")],
    "customer_level": [("vip", "VIP客户", "VIP"), ("important", "重要客户", "Important"),
                       ("normal", "普通客户", "Normal")],
    "customer_source": [("exhibition", "展会", "Exhibition"), ("referral", "转介绍", "Referral"),
                        ("online_ads", "线上推广", "Online ads"), ("cold_call", "电话开发", "Cold call"),
                        ("website", "官网咨询", "Website enquiry"), ("other", "其他", "Other")],
    "industry": [("manufacturing", "制造业", "Manufacturing"), ("it", "信息技术", "Information technology"),
                 ("retail", "零售", "Retail"), ("finance", "金融", "Finance"), ("education", "教育培训", "Education"),
                 ("healthcare", "医疗健康", "Healthcare"), ("logistics", "物流", "Logistics"),
                 ("construction", "建筑建材", "Construction"), ("energy", "能源电力", "Energy"),
                 ("services", "专业服务", "Professional services"), ("other", "其他", "Other")],
    "region": [("east", "华东", "East China"), ("north", "华北", "North China"), ("south", "华南", "South China"),
               ("central", "华中", "Central China"), ("southwest", "西南", "Southwest China"),
               ("northwest", "西北", "Northwest China"), ("northeast", "东北", "Northeast China"),
               ("overseas", "海外", "Overseas")],
    "contact_method": [("phone", "电话", "Phone"), ("email", "邮件", "E-mail"), ("visit", "拜访", "Visit"),
                       ("meeting", "会议", "Meeting"), ("wechat", "微信", "WeChat"),
                       ("social", "社交媒体", "Social media")],
    "lost_reason": [("price", "价格因素", "Price"), ("competitor", "选择竞争对手", "Chose a competitor"),
                    ("no_need", "需求取消", "Need went away"), ("service", "服务不满意", "Unhappy with service"),
                    ("other", "其他", "Other")],
    "service_type": [("consultation", "咨询", "Consultation"), ("complaint", "投诉", "Complaint"),
                     ("suggestion", "建议", "Suggestion"), ("repair", "维修", "Repair")],
    "payment_method": [("cash", "现金", "Cash"), ("card", "银行卡", "Card"),
                       ("transfer", "银行转账", "Bank transfer"), ("alipay", "支付宝", "Alipay"),
                       ("wechat_pay", "微信支付", "WeChat Pay")],
}
BUILTIN = {"customer_type"}


def create(apps, schema_editor):
    DictItem = apps.get_model("core", "DictItem")
    for kind, rows in ITEMS.items():
        for order, (code, label, label_en) in enumerate(rows, start=1):
            DictItem.objects.update_or_create(
                kind=kind, code=code,
                defaults={"label": label, "label_en": label_en, "order": order * 10,
                          "builtin": kind in BUILTIN or code == "other"},
            )


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
