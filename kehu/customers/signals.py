from django.apps import apps
from django.db.models.signals import post_save

from kehu.core.audit import register

from . import timeline  # noqa: F401  (registers the timeline providers)
from .models import Contact, Customer

register(Customer, exclude=["claimed_at", "name_key"])  # name_key: derived from the name
register(Contact)


def _followup_saved(sender, instance, **kwargs):
    """Any follow-up (whatever app records it) restarts the customer's public-pool clock."""
    from .services import touch

    when = getattr(instance, "occurred_at", None) or getattr(instance, "created_at", None)
    if instance.customer_id and when and getattr(instance, "deleted_at", None) is None:
        touch(instance.customer_id, when)


try:  # all models are loaded when apps' ready() runs
    post_save.connect(_followup_saved, sender=apps.get_model("activities", "FollowUp"),
                      dispatch_uid="customers_followup_touch")
except LookupError:  # the activities app is not installed
    pass
