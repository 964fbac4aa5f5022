"""Campaign memberships on the customer's timeline: "Joined campaign HD… 春季展会"."""

from django.urls import reverse
from django.utils.translation import gettext as _

from kehu.core import timeline

from .models import CampaignMember


@timeline.register("campaigns", right="campaignmember.view")
def campaign_events(customer, user, cursor, limit):
    rows = (CampaignMember.objects.visible_to(user).filter(customer=customer)
            .filter(cursor.older("created_at", "campaigns")).select_related("campaign")
            .order_by("-created_at", "-id")[:limit])
    return [timeline.Event(m.created_at, "campaign", _("Joined campaign %(campaign)s") % {"campaign": m.campaign},
                           body=m.get_status_display(), url=reverse("campaigns:campaign_detail", args=[m.campaign_id]),
                           actor=m.created_by_id, icon="ti-speakerphone", id=m.pk, source="campaigns") for m in rows]
