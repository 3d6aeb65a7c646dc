import functools

from django import template
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from chat.rendering import markdown_to_html

register = template.Library()


@register.filter
def markdown(text: str) -> str:
    # Safe: markdown_to_html escapes raw HTML and sanitizes the result (nh3).
    return mark_safe(markdown_to_html(text))  # noqa: S308


@register.simple_tag
def icon(name: str) -> str:
    """An icon of static/img/icons.svg, decorative: the button or link around it
    carries the words (its text or aria-label)."""
    return format_html(
        '<svg class="icon" aria-hidden="true" focusable="false"><use href="{}#{}"></use></svg>',
        _icons_url(), name,
    )


@functools.cache
def _icons_url() -> str:
    return static("img/icons.svg")
