"""Real RSA keys, X.509 certificates and PayPal-style signatures for the verifier's tests."""

from __future__ import annotations

import base64
import zlib
from datetime import datetime, timedelta
from functools import cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import NameOID


def rsa_key(name: str = "paypal") -> rsa.RSAPrivateKey:
    """One key per name for the whole run (generating keys is the slow part)."""
    return _generated(name)


@cache
def _generated(name: str) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def certificate_pem(
    key: CertificateIssuerPrivateKeyTypes,
    *,
    not_before: datetime,
    not_after: datetime,
    common_name: str = "messageverificationcerts.paypal.com",
) -> bytes:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


def valid_pem(now: datetime, key: rsa.RSAPrivateKey | None = None) -> bytes:
    return certificate_pem(
        key or rsa_key(), not_before=now - timedelta(days=30), not_after=now + timedelta(days=30)
    )


def ec_pem(now: datetime) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    return certificate_pem(
        key, not_before=now - timedelta(days=1), not_after=now + timedelta(days=1)
    )


def paypal_signature(
    key: rsa.RSAPrivateKey,
    transmission_id: str,
    transmission_time: str,
    webhook_id: str,
    body: bytes,
) -> str:
    """What PayPal puts in PAYPAL-TRANSMISSION-SIG, computed independently of the adapter."""
    message = f"{transmission_id}|{transmission_time}|{webhook_id}|{zlib.crc32(body)}"
    signature = key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()
