"""The API at /api/v1/: one NinjaAPI, each app adding its router."""

from ninja import NinjaAPI

api = NinjaAPI(title="fangkong", version="1", urls_namespace="api")
