from django import template
from django.utils.safestring import SafeString, mark_safe

from tracker.markdown import render_markdown

register = template.Library()


@register.filter
def markdown(text: str) -> SafeString:
    return mark_safe(render_markdown(text))  # noqa: S308 - sanitised by nh3


@register.filter
def get_item(mapping: dict[object, object] | None, key: object) -> object:
    return (mapping or {}).get(key)
