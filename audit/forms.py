"""Forms of the DPO's access-log pages."""

from django import forms
from django.utils.translation import gettext_lazy as _


class AccessReviewDayForm(forms.Form):
    day = forms.DateField(
        label=_("Day"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
