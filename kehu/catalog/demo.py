"""The demo catalogue (`kehu demo`): categories, ~20 products and services, two warehouses and
their opening stock. Loaded once: nothing happens when products exist already."""

from decimal import Decimal

from django.db import transaction

from kehu.core.models import DictItem

from .models import Product, ProductCategory, Warehouse
from .services import default_warehouse, move_stock, transfer

CATEGORIES = [("办公设备", None), ("打印复印", "办公设备"), ("电脑外设", "办公设备"), ("网络设备", None),
              ("软件", None), ("服务", None)]
# code, name, category, unit, list price, cost, kind, opening stock, low-stock threshold
PRODUCTS = [
    ("PR-M2000", "激光打印机 M2000", "打印复印", "unit", "2399.00", "1650.00", "goods", 18, 10),
    ("PR-C450", "彩色激光多功能一体机 C450", "打印复印", "unit", "5899.00", "4200.00", "goods", 6, 5),
    ("PR-T12", "原装硒鼓 T12", "打印复印", "piece", "459.00", "260.00", "goods", 4, 20),
    ("PR-A4", "A4 复印纸 70g（5 包/箱）", "打印复印", "box", "129.00", "92.00", "goods", 120, 30),
    ("PC-K780", "无线键鼠套装 K780", "电脑外设", "set", "299.00", "168.00", "goods", 60, 15),
    ("PC-27Q", "27 英寸 2K 显示器", "电脑外设", "unit", "1699.00", "1180.00", "goods", 25, 8),
    ("PC-DOCK", "USB-C 十一合一扩展坞", "电脑外设", "piece", "499.00", "275.00", "goods", 3, 10),
    ("PC-CAM", "1080P 会议摄像头", "电脑外设", "unit", "899.00", "560.00", "goods", 14, 5),
    ("PC-HS", "降噪耳麦 H600", "电脑外设", "piece", "359.00", "190.00", "goods", 40, 10),
    ("NW-AP6", "企业级无线 AP（Wi-Fi 6）", "网络设备", "unit", "1280.00", "820.00", "goods", 32, 10),
    ("NW-SW24", "24 口千兆交换机", "网络设备", "unit", "1980.00", "1350.00", "goods", 9, 4),
    ("NW-FW", "下一代防火墙 FW-200", "网络设备", "unit", "8800.00", "6100.00", "goods", 2, 2),
    ("NW-CAT6", "六类网线（305 米）", "网络设备", "box", "560.00", "380.00", "goods", 15, 5),
    ("SW-CRM-STD", "CRM 标准版年费（每用户）", "软件", "license", "1200.00", "150.00", "service", 0, None),
    ("SW-CRM-PRO", "CRM 专业版年费（每用户）", "软件", "license", "2400.00", "300.00", "service", 0, None),
    ("SW-MOBILE", "移动端模块", "软件", "license", "6800.00", "500.00", "service", 0, None),
    ("SV-IMPL", "实施服务", "服务", "time", "15000.00", "8000.00", "service", 0, None),
    ("SV-MIGR", "数据迁移服务", "服务", "time", "6000.00", "2500.00", "service", 0, None),
    ("SV-TRAIN", "现场培训（每人天）", "服务", "hour", "3000.00", "1200.00", "service", 0, None),
    ("SV-MAINT", "硬件上门维保（年）", "服务", "year", "2800.00", "1300.00", "service", 0, None),
]


def load(users: dict) -> int:
    """Create the demo catalogue once; returns the number of products made (0: already there)."""
    if Product.all_objects.exists():
        return 0
    supervisor = users.get("supervisor") or users.get("admin")
    units = {item.code: item for item in DictItem.objects.filter(kind="product_unit")}
    with transaction.atomic():
        categories: dict[str, ProductCategory] = {}
        for name, parent in CATEGORIES:
            categories[name] = ProductCategory.objects.create(name=name, parent=categories.get(parent),
                                                              order=len(categories))
        main = default_warehouse()
        south, _created = Warehouse.objects.get_or_create(code="SZ", defaults={"name": "深圳仓",
                                                                              "name_en": "Shenzhen warehouse"})
        for code, name, category, unit, price, cost, kind, stock, threshold in PRODUCTS:
            product = Product(code=code, name=name, category=categories[category], unit=units.get(unit),
                              list_price=Decimal(price), cost=Decimal(cost), kind=kind,
                              low_stock_threshold=Decimal(threshold) if threshold is not None else None,
                              created_by=supervisor, updated_by=supervisor,
                              description="演示数据" if kind == "goods" else "按次或按年计费的服务，不计库存")
            product.full_clean()
            product.save()
            if stock:
                move_stock(product, stock, "receipt", supervisor, reason="期初库存")
                if stock >= 20:  # part of it kept in Shenzhen for the south China customers
                    transfer(product, stock // 4, main, south, supervisor, reason="华南备货")
    return len(PRODUCTS)
