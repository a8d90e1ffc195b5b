"""Test clients signed in as one of the cast."""

from django.test import Client


def signed_in(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def send(client, method: str, url: str, body=None):
    """A JSON request to the API under /api/v1: send(client, "post", "/cases", {...})."""
    return getattr(client, method)(f"/api/v1{url}", body, content_type="application/json")
