"""The thin HTTP shell: routes translate requests to service calls and errors to statuses."""

from eventpay.web.app import create_app

__all__ = ["create_app"]
