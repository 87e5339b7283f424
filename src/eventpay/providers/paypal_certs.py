"""PayPal's webhook signing certificates: which URLs may be fetched, fetching, caching.

The certificate's URL arrives in the `PAYPAL-CERT-URL` header, which whoever sends the webhook
controls. So a URL is fetched only when it is PayPal's certificate path
(`/v1/notifications/certs/...`) on an allow-listed host over HTTPS, with no user info, query
or fragment; plain HTTP is accepted only for an allow-list entry naming a loopback host AND
port (`127.0.0.1:8123`, `localhost:8123`): the local sandbox. Redirects are never followed and
the answer is size-limited.

Which hosts are allow-listed follows the PayPal the service talks to, decided once in
`cert_hosts_for`: PayPal's live hosts for its live API, its sandbox hosts for its sandbox API,
the local emulator's exact host and port for the emulator, and never anything but the live
hosts in production (a sandbox-signed event must not pass there).

A fetched certificate is cached by URL (bounded, least recently used first out) and dropped
once it expires; the cache is shared by threads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from eventpay.ports import WebhookRejected

__all__ = [
    "PAYPAL_LIVE_CERT_HOSTS",
    "PAYPAL_SANDBOX_CERT_HOSTS",
    "CertificateStore",
    "cert_hosts_for",
    "is_allowed_cert_url",
]

PAYPAL_LIVE_CERT_HOSTS = ("api.paypal.com", "api-m.paypal.com")
PAYPAL_SANDBOX_CERT_HOSTS = ("api.sandbox.paypal.com", "api-m.sandbox.paypal.com")
CERT_PATH = "/v1/notifications/certs/"
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_MAX_BYTES = 64 * 1024
_MAX_ENTRIES = 32


def _entry(host: str) -> tuple[str, int | None]:
    """An allow-list entry as (host, port); a port only when the entry names one."""
    parts = urlsplit(host if "//" in host else f"//{host}")
    return (parts.hostname or "").lower(), parts.port


def cert_hosts_for(api_base: str, *, production: bool) -> tuple[str, ...]:
    """The certificate hosts to trust when the PayPal API in use is at `api_base`.

    `ValueError` in production for anything but PayPal's live API (config.py refuses that
    combination too): a production verifier never trusts a sandbox's or an emulator's key.
    """
    parts = urlsplit(api_base.strip())
    host = (parts.hostname or "").lower()
    at_paypal = parts.scheme == "https" and parts.port in (None, 443) and not parts.path.strip("/")
    if at_paypal and host in PAYPAL_LIVE_CERT_HOSTS:
        return PAYPAL_LIVE_CERT_HOSTS
    if production:
        raise ValueError("production trusts only PayPal's live API and its certificate hosts")
    if at_paypal and host in PAYPAL_SANDBOX_CERT_HOSTS:
        return PAYPAL_SANDBOX_CERT_HOSTS
    # The local emulator signs with its own certificate: trusted at exactly its host and port.
    netloc = parts.netloc.rpartition("@")[2]
    if not netloc:
        raise ValueError(f"the PayPal API base names no host: {api_base!r}")
    return (netloc,)


def is_allowed_cert_url(url: str, allowed_hosts: Sequence[str]) -> bool:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return False
    if parts.query or parts.fragment or not parts.path.startswith(CERT_PATH):
        return False
    if ".." in parts.path or "\\" in url:
        return False
    for allowed_host, allowed_port in map(_entry, allowed_hosts):
        if host != allowed_host:
            continue
        if parts.scheme == "https" and (port or 443) == (allowed_port or 443):
            return True
        # Plain HTTP only for the local sandbox, named with its port in the allow-list.
        if (
            parts.scheme == "http"
            and allowed_host in _LOOPBACK
            and allowed_port is not None
            and port == allowed_port
        ):
            return True
    return False


class _Entry:
    def __init__(self, key: RSAPublicKey, not_before: datetime, not_after: datetime) -> None:
        self.key = key
        self.not_before = not_before
        self.not_after = not_after


class CertificateStore:
    """Public keys of allowed certificate URLs, fetched once and reused until they expire."""

    def __init__(
        self, *, allowed_hosts: Sequence[str], http: httpx.Client, timeout_s: float = 10.0
    ) -> None:
        self._allowed = tuple(allowed_hosts)
        self._http = http
        self._timeout = timeout_s
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, _Entry] = OrderedDict()

    def check_url(self, url: str) -> None:
        if not is_allowed_cert_url(url, self._allowed):
            raise WebhookRejected(
                "cert_url_not_allowed", "the certificate URL is not one of PayPal's"
            )

    def public_key(self, url: str, *, now: datetime) -> RSAPublicKey:
        """The RSA key of the certificate at `url`, valid at `now`; `WebhookRejected` if not."""
        self.check_url(url)
        with self._lock:
            entry = self._cache.get(url)
            if entry is not None:
                self._cache.move_to_end(url)
        if entry is None or now > entry.not_after:
            entry = _parse(self._fetch(url))
            with self._lock:
                self._cache[url] = entry
                self._cache.move_to_end(url)
                while len(self._cache) > _MAX_ENTRIES:
                    self._cache.popitem(last=False)
        if not entry.not_before <= now <= entry.not_after:
            raise WebhookRejected("cert_invalid", "the signing certificate is not valid now")
        return entry.key

    def _fetch(self, url: str) -> bytes:
        try:
            with self._http.stream(
                "GET", url, timeout=self._timeout, follow_redirects=False
            ) as response:
                if response.status_code != 200:
                    raise WebhookRejected(
                        "cert_unavailable",
                        f"the signing certificate could not be fetched ({response.status_code})",
                    )
                data = b""
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) > _MAX_BYTES:
                        raise WebhookRejected("cert_invalid", "the certificate is too large")
                return data
        except httpx.HTTPError:
            raise WebhookRejected(
                "cert_unavailable", "the signing certificate could not be fetched"
            ) from None


def _parse(pem: bytes) -> _Entry:
    try:
        # PayPal serves the signing certificate first, followed by its chain.
        certificate = x509.load_pem_x509_certificates(pem)[0]
    except ValueError:
        raise WebhookRejected("cert_invalid", "the certificate is not PEM X.509") from None
    key = certificate.public_key()
    if not isinstance(key, RSAPublicKey):
        raise WebhookRejected("cert_invalid", "the certificate's key is not RSA")
    return _Entry(key, certificate.not_valid_before_utc, certificate.not_valid_after_utc)
