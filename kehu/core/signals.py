from .audit import register
from .models import CustomField, DictItem

register(DictItem)
register(CustomField)
