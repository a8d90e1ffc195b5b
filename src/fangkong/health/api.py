"""Health endpoints: observations, health checks, alerts."""

from ninja import Router

router = Router()
