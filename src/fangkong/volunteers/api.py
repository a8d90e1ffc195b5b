"""Post endpoints."""

from ninja import Router

router = Router()
