"""The test servers themselves: localstripe answers the real Stripe SDK, PostgreSQL connects."""

from __future__ import annotations

import pytest
import sqlalchemy
import stripe


def test_stripe_sdk_creates_and_retrieves_a_payment_intent(localstripe_url: str) -> None:
    client = stripe.StripeClient(
        "sk_test_12345",
        base_addresses={
            "api": localstripe_url,
            "connect": localstripe_url,
            "files": localstripe_url,
        },
        max_network_retries=0,
    )

    created = client.v1.payment_intents.create(params={"amount": 4500, "currency": "usd"})
    fetched = client.v1.payment_intents.retrieve(created.id)

    assert created.id.startswith("pi_")
    assert fetched.id == created.id
    assert fetched.amount == 4500
    assert fetched.currency == "usd"


@pytest.mark.postgres
def test_postgres_url_connects_to_postgresql(postgres_url: str) -> None:
    engine = sqlalchemy.create_engine(postgres_url)
    try:
        with engine.connect() as connection:
            version = connection.execute(sqlalchemy.text("select version()")).scalar_one()
            database = connection.execute(sqlalchemy.text("select current_database()")).scalar_one()
    finally:
        engine.dispose()

    assert "PostgreSQL" in version
    assert database == "eventpay_test"
