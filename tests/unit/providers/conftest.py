"""Fixtures for the PayPal adapter's unit tests: a fake PayPal behind `httpx.MockTransport`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from eventpay.providers.paypal import PayPalProvider

from .fake_paypal import API_BASE, CLIENT_ID, CLIENT_SECRET, FakePayPal


@pytest.fixture
def fake() -> FakePayPal:
    return FakePayPal()


@pytest.fixture
def provider(fake: FakePayPal) -> Iterator[PayPalProvider]:
    with fake.client() as http:
        yield PayPalProvider(
            client_id=CLIENT_ID, client_secret=CLIENT_SECRET, api_base=API_BASE, http=http
        )
