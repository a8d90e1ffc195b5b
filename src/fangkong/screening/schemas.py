"""API shapes for following people."""

from ninja import Schema


# Follow-ups and the four colours


# Risk areas and arrivals


# Verification lists


# Screening rounds
