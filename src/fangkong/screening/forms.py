"""Console forms for following people; they parse input, services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _


# Follow-ups and the four colours


# Risk areas and arrivals


# Verification lists


# Screening rounds
