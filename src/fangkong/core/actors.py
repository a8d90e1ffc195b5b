"""Who is acting, and through which door (web, api, cli), carried into services."""

from dataclasses import dataclass


@dataclass
class RequestContext:
    via: str = "web"
    client_address: str | None = None
    cli_label: str = ""


def context_of(actor) -> RequestContext:
    return getattr(actor, "_fangkong_context", None) or RequestContext()


def bind_context(actor, *, via: str, client_address: str | None = None, cli_label: str = ""):
    """Attach the channel and client address to the actor object for the audit trail."""
    actor._fangkong_context = RequestContext(via=via, client_address=client_address, cli_label=cli_label)
    return actor


def client_address_of(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None
