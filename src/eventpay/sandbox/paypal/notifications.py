"""Notifications v1: webhook subscriptions, events, the signing certificate and the postback check.

- `GET /v1/notifications/certs/CERT-{hex}`: the PEM certificate deliveries point at (public, as
  PayPal's certificate URLs are).
- `POST /v1/notifications/verify-webhook-signature`: PayPal's postback verification, done for
  real: the signature is checked against this sandbox's key over the transmission id, time,
  webhook id and the CRC32 of the *re-serialised* `webhook_event`. Like PayPal, it therefore
  answers FAILURE when the receiver posts back an event that is not exactly the one delivered
  (fields dropped, added or reordered), even if the original delivery was genuine; verifying the
  raw body locally against the certificate has no such caveat. The certificate URL must name this
  sandbox's certificate (its host is not compared, so `localhost` and `127.0.0.1` both work).
- Webhooks (`/v1/notifications/webhooks`: create, list, show, delete; http URLs are allowed,
  unlike PayPal) and events (`/v1/notifications/webhooks-events`: list, show, resend).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import events
from .errors import invalid, link, missing
from .gateway import Call, Reply
from .records import JSON, Webhook
from .signing import AUTH_ALGO, Signer
from .store import Store
from .webhooks import Dispatcher

_VERIFY_FIELDS = (
    "auth_algo",
    "cert_url",
    "transmission_id",
    "transmission_sig",
    "transmission_time",
    "webhook_id",
    "webhook_event",
)


def cert_route(signer: Signer) -> Route:
    async def certificate(request: Request) -> Response:
        if request.path_params["name"] != signer.cert_name:
            return Response(status_code=404)
        return Response(signer.pem(), media_type="application/x-pem-file")

    return Route("/v1/notifications/certs/{name}", certificate, methods=["GET"])


def verify_signature(signer: Signer, call: Call) -> Reply:
    body = call.body
    for key in _VERIFY_FIELDS:
        if key not in body:
            raise missing(f"/{key}")
    strings = [body[key] for key in _VERIFY_FIELDS[:-1]]
    event = body["webhook_event"]
    if not all(isinstance(value, str) for value in strings) or not isinstance(event, dict):
        raise invalid("/webhook_event", None, "INVALID_PARAMETER_SYNTAX")
    algo, cert_url, transmission_id, signature, transmission_time, webhook_id = strings
    genuine = (
        algo == AUTH_ALGO
        and urlsplit(cert_url).path == signer.cert_path
        and signer.verify(
            transmission_id, transmission_time, webhook_id, events.serialise(event), signature
        )
    )
    return Reply(200, {"verification_status": "SUCCESS" if genuine else "FAILURE"})


def _render_webhook(hook: Webhook, base_url: str) -> JSON:
    url = f"{base_url}/v1/notifications/webhooks/{hook.id}"
    return {
        "id": hook.id,
        "url": hook.url,
        "event_types": [{"name": name} for name in hook.event_types],
        "links": [link(url, "self"), link(url, "update", "PATCH"), link(url, "delete", "DELETE")],
    }


def create_webhook(store: Store, call: Call) -> Reply:
    url = call.body.get("url")
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
        raise invalid("/url", url)
    raw_types = call.body.get("event_types")
    if not isinstance(raw_types, list) or not raw_types:
        raise missing("/event_types")
    names: list[str] = []
    for index, entry in enumerate(raw_types):
        name = entry.get("name") if isinstance(entry, dict) else None
        if name != "*" and name not in events.EVENT_TYPES:
            raise invalid(f"/event_types/{index}/name", name)
        names.append(str(name))
    hook = store.add_webhook(url, names)
    return Reply(201, _render_webhook(hook, call.base_url))


def list_webhooks(store: Store, call: Call) -> Reply:
    hooks = list(store.state.webhooks.values())
    return Reply(200, {"webhooks": [_render_webhook(h, call.base_url) for h in hooks]})


def retrieve_webhook(store: Store, call: Call) -> Reply:
    return Reply(200, _render_webhook(store.webhook(call.path("id")), call.base_url))


def delete_webhook(store: Store, call: Call) -> Reply:
    store.delete_webhook(call.path("id"))
    return Reply(204)


def list_events(store: Store, call: Call) -> Reply:
    wanted = call.query.get("event_type")
    found = [e for e in store.events_newest_first() if wanted in (None, e["event_type"])]
    size = call.query.get("page_size", "10")
    shown = found[: max(1, min(int(size), 300))] if size.isdigit() else found[:10]
    url = f"{call.base_url}/v1/notifications/webhooks-events"
    return Reply(200, {"events": shown, "count": len(shown), "links": [link(url, "self")]})


def retrieve_event(store: Store, call: Call) -> Reply:
    return Reply(200, store.event(call.path("id")).event)


def resend_event(dispatcher: Dispatcher, store: Store, call: Call) -> Reply:
    event = store.event(call.path("id")).event
    raw: Any = call.body.get("webhook_ids")
    if raw is not None and (not isinstance(raw, list) or not all(isinstance(w, str) for w in raw)):
        raise invalid("/webhook_ids", None, "INVALID_PARAMETER_SYNTAX")
    dispatcher.resend(event["id"], raw)
    return Reply(202, event)
