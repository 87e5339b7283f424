"""The Stripe adapter's Connect side through the real SDK against the Stripe sandbox: Express
accounts, account links, destination-charge parameters, transfers, reversals, events."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from eventpay.domain import Money, PaymentStatus
from eventpay.ports import (
    AccountState,
    CreatePayment,
    CreateTransfer,
    ProviderOutcomeUnknown,
    ProviderRejected,
    RefundRequest,
)
from eventpay.providers import StripeProvider, stripe_client
from eventpay.sandbox.stripe import BackgroundServer
from eventpay.sandbox.stripe import create_app as create_sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[str]:
    server = BackgroundServer(create_sandbox(environment="test"))
    server.start()
    try:
        yield server.base_url
    finally:
        server.stop()


@pytest.fixture
def stripe_provider(sandbox: str) -> StripeProvider:
    return StripeProvider(
        stripe_client(secret_key="sk_test_connect", api_base=sandbox, timeout_s=5)
    )


def _enabled_account(provider: StripeProvider, sandbox: str) -> str:
    organizer = f"org-{uuid.uuid4().hex[:8]}"
    state = provider.create_account(
        organizer_id=organizer, email=None, idempotency_key=f"eventpay-account-{organizer}"
    )
    link = provider.create_account_link(
        account_id=state.account_id, refresh_url="https://x.test/f", return_url="https://x.test/r"
    )
    httpx.post(f"{link.url}/complete").raise_for_status()
    return state.account_id


def _paid(provider: StripeProvider, sandbox: str, request: CreatePayment) -> str:
    intent = provider.create_payment(request)
    secret = str(intent.client_secret)
    httpx.post(
        f"{sandbox}/v1/payment_intents/{intent.provider_ref}/confirm",
        auth=("pk_test_eventpay_sandbox", ""),
        data={"client_secret": secret, "payment_method": "pm_card_visa"},
    ).raise_for_status()
    return intent.provider_ref


def _request(**connect: object) -> CreatePayment:
    payment_id = str(uuid.uuid4())
    return CreatePayment(
        payment_id=payment_id,
        order_id="order-1",
        amount=Money(10_000, "usd"),
        idempotency_key=f"eventpay-payment-{payment_id}",
        description="connect",
        metadata={"payment_id": payment_id},
        **connect,  # type: ignore[arg-type]
    )


def test_an_account_is_opened_once_per_key_and_onboarding_enables_it(
    stripe_provider: StripeProvider,
) -> None:
    organizer = f"org-{uuid.uuid4().hex[:8]}"
    key = f"eventpay-account-{organizer}"
    first = stripe_provider.create_account(organizer_id=organizer, email=None, idempotency_key=key)
    again = stripe_provider.create_account(organizer_id=organizer, email=None, idempotency_key=key)
    assert first.account_id == again.account_id
    assert first.account_id.startswith("acct_")
    assert not first.charges_enabled

    link = stripe_provider.create_account_link(
        account_id=first.account_id, refresh_url="https://x.test/f", return_url="https://x.test/r"
    )
    assert link.expires_at > 0
    finished = httpx.post(f"{link.url}/complete")
    assert finished.status_code == 200
    assert stripe_provider.retrieve_account(first.account_id) == AccountState(
        account_id=first.account_id,
        charges_enabled=True,
        payouts_enabled=True,
        details_submitted=True,
        requirements_due=(),
    )


def test_account_updated_is_read_and_other_events_are_not(
    stripe_provider: StripeProvider, sandbox: str
) -> None:
    account_id = _enabled_account(stripe_provider, sandbox)
    httpx.post(
        f"{sandbox}/_sandbox/accounts/{account_id}/state",
        json={"charges_enabled": False, "currently_due": ["id_number"]},
    ).raise_for_status()
    client = stripe_client(secret_key="sk_test_connect", api_base=sandbox, timeout_s=5)
    events = client.v1.events.list(params={"type": "account.updated", "limit": 100}).data
    newest = next(e for e in events if e.data.object["id"] == account_id).to_dict()
    assert stripe_provider.parse_account_event("account.updated", newest) == AccountState(
        account_id=account_id,
        charges_enabled=False,
        payouts_enabled=True,
        details_submitted=True,
        requirements_due=("id_number",),
    )
    assert stripe_provider.parse_account_event("payment_intent.succeeded", newest) is None
    with pytest.raises(ProviderOutcomeUnknown):
        stripe_provider.parse_account_event("account.updated", {"data": {}})


def test_a_destination_charge_carries_the_destination_fee_and_merchant_of_record(
    stripe_provider: StripeProvider, sandbox: str
) -> None:
    account_id = _enabled_account(stripe_provider, sandbox)
    intent_id = _paid(
        stripe_provider, sandbox, _request(transfer_destination=account_id, application_fee=550)
    )
    client = stripe_client(secret_key="sk_test_connect", api_base=sandbox, timeout_s=5)
    intent = client.v1.payment_intents.retrieve(intent_id)
    assert intent.transfer_data is not None
    assert intent.transfer_data.destination == account_id
    assert (intent.application_fee_amount, intent.on_behalf_of) == (550, account_id)
    paid = stripe_provider.retrieve_payment(intent_id)
    assert paid.status is PaymentStatus.SUCCEEDED

    refund = stripe_provider.refund_payment(
        RefundRequest(
            refund_id="r-1",
            payment_provider_ref=intent_id,
            capture_id=paid.capture_id,
            amount=Money(5_000, "usd"),
            idempotency_key=f"refund-{intent_id}",
            reason="test",
            reverse_transfer=True,
            refund_application_fee=True,
        )
    )
    assert refund.amount == Money(5_000, "usd")
    charge = client.v1.charges.retrieve(str(paid.capture_id), params={"expand": ["transfer"]})
    assert charge.transfer.amount_reversed == 5_000  # type: ignore[attr-defined]


def test_without_on_behalf_of_the_platform_stays_merchant_of_record(sandbox: str) -> None:
    provider = StripeProvider(
        stripe_client(secret_key="sk_test_connect", api_base=sandbox, timeout_s=5),
        on_behalf_of=False,
    )
    account_id = _enabled_account(provider, sandbox)
    answer = provider.create_payment(_request(transfer_destination=account_id, application_fee=1))
    client = stripe_client(secret_key="sk_test_connect", api_base=sandbox, timeout_s=5)
    intent = client.v1.payment_intents.retrieve(answer.provider_ref)
    assert intent.on_behalf_of is None
    assert intent.transfer_data is not None


def test_a_transfer_from_a_charge_and_its_reversal(
    stripe_provider: StripeProvider, sandbox: str
) -> None:
    account_id = _enabled_account(stripe_provider, sandbox)
    intent_id = _paid(stripe_provider, sandbox, _request(transfer_group="order-1"))
    charge_id = stripe_provider.retrieve_payment(intent_id).capture_id
    request = CreateTransfer(
        amount=Money(7_000, "usd"),
        destination=account_id,
        transfer_group="order-1",
        source_transaction=charge_id,
        idempotency_key=f"transfer:{intent_id}:org",
        metadata={"organizer_id": "org"},
    )
    sent = stripe_provider.create_transfer(request)
    assert stripe_provider.create_transfer(request) == sent  # the same key: the same transfer
    assert (sent.amount, sent.destination) == (Money(7_000, "usd"), account_id)

    back = stripe_provider.create_transfer_reversal(
        transfer_id=sent.transfer_id,
        amount=Money(2_000, "usd"),
        idempotency_key=f"reversal:{sent.transfer_id}:1",
    )
    assert back.reversed_amount == 2_000
    assert back.reversal_id is not None
    assert back.reversal_id.startswith("trr_")
    with pytest.raises(ProviderRejected):
        stripe_provider.create_transfer(
            CreateTransfer(
                amount=Money(100, "usd"),
                destination="acct_missing",
                transfer_group="order-1",
                source_transaction=None,
                idempotency_key=f"transfer:{uuid.uuid4()}",
            )
        )
