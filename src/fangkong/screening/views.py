"""Console pages for following people: colours and follow-ups, risk areas and arrivals, lists, rounds."""

from django.template.response import TemplateResponse

from fangkong.screening import queries, services


# Follow-ups and the four colours


# Risk areas and arrivals


# Verification lists


# Screening rounds
