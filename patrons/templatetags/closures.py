"""Template tags for exceptional circumstances: the PIN-by-phone form on the patron's page."""

from django import template

from patrons.closures import pin_by_phone_closure
from patrons.registration_forms import PinByPhoneForm

register = template.Library()


@register.simple_tag(takes_context=True)
def pin_by_phone_panel(context, patron) -> dict | None:
    """The closure period that allows a PIN by phone and the form, or None when none is in force.

    A form sent back with errors is shown even when the closure has just ended, so its message is seen.
    """
    form = context.get("pin_by_phone_form")
    closure = pin_by_phone_closure(consortium_id=patron.consortium_id)
    if closure is None and not (form is not None and form.errors):
        return None
    return {"closure": closure, "form": form if form is not None else PinByPhoneForm()}
