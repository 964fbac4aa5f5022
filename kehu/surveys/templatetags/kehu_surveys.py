"""`{% subject_surveys subject as surveys %}`: a subject's surveys the user may see (the panel
surveys/_panel.html on a ticket's page)."""

from django import template
from django.contrib.contenttypes.models import ContentType

from ..models import Survey

register = template.Library()


@register.simple_tag(takes_context=True)
def subject_surveys(context, subject, limit=20):
    request = context.get("request")
    user = getattr(request, "user", None)
    if subject is None or user is None or not user.is_authenticated or not user.has_right("survey", "view"):
        return None
    ct = ContentType.objects.get_for_model(type(subject))
    return list(Survey.objects.visible_to(user).filter(content_type=ct, object_id=subject.pk)
                .select_related("contact", "followed_up_task").order_by("-id")[:limit])
