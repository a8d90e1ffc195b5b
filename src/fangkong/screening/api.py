"""Screening endpoints: risk areas, arrivals, follow-ups and colours, verification lists, screening rounds."""

from ninja import Router

from fangkong.screening import queries, services

router = Router()


# Follow-ups and the four colours


# Risk areas and arrivals


# Verification lists


# Screening rounds
