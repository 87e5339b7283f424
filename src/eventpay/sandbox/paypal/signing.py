"""Webhook signatures exactly like PayPal's: RSA PKCS#1 v1.5 with SHA-256 over a CRC'd message.

At start-up the sandbox makes an RSA-2048 key and a self-signed X.509 certificate (CN
`messageverificationcerts.sandbox.local`, valid from a day ago for 30 days), served as PEM at
`/v1/notifications/certs/CERT-{hex}`. A delivery's `PAYPAL-TRANSMISSION-SIG` is
base64(sign(f"{transmission_id}|{transmission_time}|{webhook_id}|{crc32(raw body)}")) with the
CRC as an unsigned decimal, and `PAYPAL-CERT-URL` points at that PEM. Implemented here on purpose,
independently of the service's own verification code, which this sandbox exists to cross-check.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from dataclasses import dataclass
from datetime import timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from . import identifiers

AUTH_ALGO = "SHA256withRSA"
CERT_COMMON_NAME = "messageverificationcerts.sandbox.local"
CERT_PATH_PREFIX = "/v1/notifications/certs/"


def signed_message(
    transmission_id: str, transmission_time: str, webhook_id: str, body: bytes
) -> bytes:
    """What PayPal signs for one transmission of `body` to the webhook `webhook_id`."""
    crc = zlib.crc32(body) & 0xFFFFFFFF
    return f"{transmission_id}|{transmission_time}|{webhook_id}|{crc}".encode()


@dataclass(frozen=True)
class Signer:
    """The sandbox's signing key and certificate; one per app."""

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    cert_name: str

    @classmethod
    def generate(cls) -> Signer:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, CERT_COMMON_NAME),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "eventpay PayPal sandbox"),
            ]
        )
        now = identifiers.now()
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .sign(key, hashes.SHA256())
        )
        der = certificate.public_bytes(serialization.Encoding.DER)
        return cls(key, certificate, f"CERT-{hashlib.sha256(der).hexdigest()[:32]}")

    @property
    def cert_path(self) -> str:
        return CERT_PATH_PREFIX + self.cert_name

    def cert_url(self, base_url: str) -> str:
        return base_url + self.cert_path

    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def sign(
        self, transmission_id: str, transmission_time: str, webhook_id: str, body: bytes
    ) -> str:
        message = signed_message(transmission_id, transmission_time, webhook_id, body)
        signature = self.key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(signature).decode("ascii")

    def verify(
        self,
        transmission_id: str,
        transmission_time: str,
        webhook_id: str,
        body: bytes,
        signature_b64: str,
    ) -> bool:
        try:
            signature = base64.b64decode(signature_b64, validate=True)
        except (binascii.Error, ValueError):
            return False
        message = signed_message(transmission_id, transmission_time, webhook_id, body)
        public_key = self.certificate.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            return False
        try:
            public_key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return False
        return True
