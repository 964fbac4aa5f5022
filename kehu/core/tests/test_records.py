import importlib
import pkgutil

import kehu
from kehu.core.models import CustomField, DictItem
from kehu.core.registry import registry
from kehu.core.testing.records import RecordTypeTests


class TestDictItem(RecordTypeTests):
    key = "dictitem"
    update = {"label": "展会（春季）"}
    invalid = {"kind": "nonsense"}

    def make(self, org, owner):
        return DictItem.objects.create(kind="customer_source", code=f"s{DictItem.objects.count()}", label="来源")

    def form_data(self, org):
        return {"kind": "industry", "code": "gaming", "label": "游戏", "label_en": "Gaming", "order": 5,
                "active": "on"}


class TestCustomField(RecordTypeTests):
    key = "customfield"
    update = {"label": "年度预算"}
    invalid = {"name": "1 bad name"}

    def make(self, org, owner):
        return CustomField.objects.create(record_type="customers.customer", name=f"f{CustomField.objects.count()}",
                                          label="字段")

    def form_data(self, org):
        return {"record_type": "customers.customer", "name": "budget", "label": "预算", "field_type": "text",
                "order": 1}


def test_every_record_type_has_generic_tests():
    """A new record type must get the generic tests (NetBox's meta-test)."""
    for mod in pkgutil.walk_packages(kehu.__path__, "kehu."):
        if mod.name.split(".")[-1].startswith("test_"):
            importlib.import_module(mod.name)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    covered = {cls.key for cls in subclasses(RecordTypeTests) if cls.key}
    missing = {rt.key for rt in registry.all()} - covered
    assert not missing, f"record types without generic tests: {missing}"
