from django import template
from django.utils.safestring import mark_safe

from chat.rendering import markdown_to_html

register = template.Library()


@register.filter
def markdown(text: str) -> str:
    # Safe: markdown_to_html escapes raw HTML and sanitizes the result (nh3).
    return mark_safe(markdown_to_html(text))  # noqa: S308
