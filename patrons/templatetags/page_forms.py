"""The forms of the patron's page, rendered once per worker for what they show (issue 16).

The page shows four forms on every read (a note, the choices, the loan-history confirmation, a trusteeship);
rendering their fields' and widgets' templates was most of the page's template time (about 85 includes a page).
An unbound form shows nothing of the request: its labels (the language), its initial values and its choices.
So it is rendered once for those and kept (core/process_cache.py): a change of its choices (the note form's
libraries) is a new key. A bound form, with what the user typed and its errors, is rendered every time, and so
is a form whose choices come from a query at rendering (a ModelChoiceField left to its queryset).
"""

from django import forms, template
from django.utils.safestring import SafeString
from django.utils.translation import get_language

from core.process_cache import ProcessCache

register = template.Library()

_rendered: ProcessCache[SafeString] = ProcessCache()


def _shown(form: forms.Form) -> tuple | None:
    """What an unbound form's HTML depends on, as a key (reprs: lazy labels and dates are not all hashable); None
    when a field's choices are not a list yet (they would be read from the database while rendering)."""
    choices = []
    for name, field in form.fields.items():
        field_choices = getattr(field, "choices", ())
        if not isinstance(field_choices, list | tuple):
            return None
        choices.append((name, repr(field_choices)))
    initial = tuple(sorted((name, repr(value)) for name, value in form.initial.items()))
    kind = (type(form).__module__, type(form).__qualname__)
    return (*kind, get_language(), form.prefix, form.auto_id, initial, tuple(choices))


@register.simple_tag
def form_div(form: forms.Form) -> SafeString:
    """`form.as_div()`, kept for an unbound form with the same language, initial values and choices."""
    key = None if form.is_bound else _shown(form)
    return form.as_div() if key is None else _rendered.get(key, form.as_div)
