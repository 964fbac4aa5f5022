from kehu.core.audit import register

from . import timeline  # noqa: F401  (registers the timeline providers)
from .models import Contact, Customer

register(Customer, exclude=["claimed_at"])
register(Contact)
