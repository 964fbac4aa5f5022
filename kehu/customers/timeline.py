"""Timeline events of the customers app: creation, field and ownership changes, contacts."""

import functools

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext as _

from kehu.core import timeline

from .models import Contact, Customer


@timeline.register("changes", right=None)
def change_events(customer, user, cursor, limit):
    ct = ContentType.objects.get_for_model(Customer)
    entries = (
        LogEntry.objects.filter(cursor.older("timestamp", "changes"), content_type=ct, object_id=customer.pk)
        .order_by("-timestamp", "-id")[:limit]
    )
    events = []
    for entry in entries:
        event = functools.partial(timeline.Event, id=entry.pk)  # one entry's events share its key
        changes = entry.changes_dict or {}
        if entry.action == LogEntry.Action.CREATE:
            events.append(event(entry.timestamp, "created", _("Customer created"), actor=entry.actor_id,
                                         icon="ti-sparkles"))
            continue
        if "owner" in changes:
            before_owner, after_owner = changes["owner"][0], changes["owner"][1]
            if after_owner in (None, "None", ""):
                title = _("Returned to the public pool")
            elif before_owner in (None, "None", ""):
                title = _("Taken from the public pool by %(owner)s") % {"owner": after_owner}
            else:
                title = _("Owner changed from %(a)s to %(b)s") % {"a": before_owner, "b": after_owner}
            events.append(event(entry.timestamp, "owner", title, actor=entry.actor_id, icon="ti-user-share"))
        if "merged" in changes:
            events.append(event(entry.timestamp, "merged", _("Merged with %(other)s") % {
                "other": changes["merged"][0]}, actor=entry.actor_id, icon="ti-arrows-join"))
        other = {k: v for k, v in changes.items() if k not in ("owner", "merged", "updated_by", "search_text")}
        if other:
            details = []
            for name, pair in other.items():
                try:
                    label = Customer._meta.get_field(name).verbose_name
                except Exception:
                    label = name
                details.append((label, pair[0], pair[1]))
            events.append(event(entry.timestamp, "changed", _("Details changed"), actor=entry.actor_id,
                                         icon="ti-edit", details=details))
    return events


@timeline.register("contacts", right="contact.view")
def contact_events(customer, user, cursor, limit):
    contacts = (Contact.objects.visible_to(user) if user is not None else Contact.objects).filter(
        cursor.older("created_at", "contacts"), customer=customer)
    return [
        timeline.Event(c.created_at, "contact", _("Contact added: %(name)s") % {"name": c.name},
                       body=c.title, url=f"/contacts/{c.pk}/", actor=c.created_by_id, icon="ti-user-plus", id=c.pk)
        for c in contacts.order_by("-created_at", "-id")[:limit]
    ]
