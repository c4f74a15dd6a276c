"""``{{ name|plain_label }}``: the visitor-facing name of an engine or recommender
(``web.selectors.PLAIN_LABELS``)."""

from django import template

from web.selectors import plain_label as _plain_label

register = template.Library()


@register.filter
def plain_label(name: str) -> str:
    return _plain_label(str(name))
