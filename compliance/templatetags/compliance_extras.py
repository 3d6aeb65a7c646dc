from django import template

from compliance.models import MessageRedaction

register = template.Library()


@register.simple_tag
def redactions_of(message_id) -> list[dict]:
    """What was taken out of one user message before it was sent."""
    if not message_id:
        return []
    row = MessageRedaction.objects.filter(message_id=message_id).only("items").first()
    return row.items if row else []
