"""Scoped reads for following people."""

from django.http import Http404
from django.shortcuts import get_object_or_404

from fangkong.core.converters import is_id
from fangkong.screening.models import (Arrival, FollowUp, HouseholdVisit, RiskArea, ScreeningRound, VerificationBatch,
                                       VerificationItem)


def _get(rows, pk):
    if not is_id(pk):
        raise Http404
    return get_object_or_404(rows, pk=pk)


# Follow-ups and the four colours


# Risk areas and arrivals


# Verification lists


# Screening rounds
