"""Test clients signed in as one of the cast."""

from django.test import Client


def signed_in(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client
