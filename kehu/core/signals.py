from auditlog.registry import auditlog

from .models import CustomField, DictItem

auditlog.register(DictItem)
auditlog.register(CustomField)
