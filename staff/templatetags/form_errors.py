"""The error summary of a refused form (GOV.UK's pattern), rendered once by base.html for every staff page and
by admin/base_site.html for every admin page (the DPO's own forms).

The page's view re-renders the refused form, bound, with its errors; this tag finds every such form in
the page's context (a form, or forms in a dict or list such as the ban page's step forms or the DPO's
request steps), so no page has to remember to show the summary. Each error links to its field (a form-wide
error to the form's first field); static/js/error_summary.js moves the focus to the summary when the page
loads.
"""

from collections.abc import Iterator

from django import template
from django.forms import BaseForm
from django.utils.text import capfirst

register = template.Library()


def _forms_in(value, depth: int = 2) -> Iterator[BaseForm]:
    """Forms in a context value: the value itself, or inside it two containers deep (the DPO's request page
    lists its step forms as a list of dicts)."""
    if isinstance(value, BaseForm):
        yield value
    elif depth and isinstance(value, dict):
        for item in value.values():
            yield from _forms_in(item, depth - 1)
    elif depth and isinstance(value, list | tuple):
        for item in value:
            yield from _forms_in(item, depth - 1)


def _refused_forms(context: template.Context) -> list[BaseForm]:
    refused: dict[int, BaseForm] = {}
    for value in context.flatten().values():
        for form in _forms_in(value):
            if form.is_bound and form.errors:
                refused.setdefault(id(form), form)
    return list(refused.values())


def form_error_links(form: BaseForm) -> list[tuple[str, str]]:
    """(id of the field to jump to, message) for each error of a refused form, in the form's order; a field's
    message starts with its label, so that three "This field is required." say which fields they are."""
    visible = form.visible_fields()
    first = visible[0].id_for_label if visible else ""
    links = [(first, str(message)) for message in form.non_field_errors()]
    links.extend((first, str(message)) for field in form.hidden_fields() for message in field.errors)
    for field in visible:
        named = f"{capfirst(field.label)}: " if field.label else ""
        links.extend((field.id_for_label, f"{named}{message}") for message in field.errors)
    return links


@register.inclusion_tag("includes/error_summary.html", takes_context=True)
def error_summary(context: template.Context) -> dict:
    return {"links": [link for form in _refused_forms(context) for link in form_error_links(form)]}
