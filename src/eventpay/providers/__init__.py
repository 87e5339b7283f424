"""Payment provider adapters: each implements `eventpay.ports.PaymentProvider`.

Adapters translate between a provider's API and our records; they never touch the database
and never decide business outcomes (over-payment, partial refunds): they return values and the
core decides.
"""

from eventpay.providers.paypal import PayPalProvider
from eventpay.providers.paypal_certs import cert_hosts_for
from eventpay.providers.paypal_webhook import PayPalWebhookVerifier
from eventpay.providers.paypal_webhook_postback import PayPalPostbackVerifier
from eventpay.providers.stripe import StripeProvider, stripe_client
from eventpay.providers.stripe_webhook import StripeWebhookVerifier

__all__ = [
    "PayPalPostbackVerifier",
    "PayPalProvider",
    "PayPalWebhookVerifier",
    "StripeProvider",
    "StripeWebhookVerifier",
    "cert_hosts_for",
    "stripe_client",
]
