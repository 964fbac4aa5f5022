from auditlog.registry import auditlog

from . import timeline  # noqa: F401  (registers the timeline providers)
from .models import Contact, Customer

auditlog.register(Customer, exclude_fields=["search_text", "version", "updated_at", "updated_by", "claimed_at"])
auditlog.register(Contact, exclude_fields=["version", "updated_at", "updated_by"])
