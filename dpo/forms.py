"""Forms of the DPO's access-log pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from core import form_fields


class AccessReviewDayForm(forms.Form):
    day = form_fields.DateField(
        label=_("Day"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
