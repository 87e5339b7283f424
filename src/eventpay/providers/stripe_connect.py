"""Stripe Connect for the Stripe adapter: Express accounts, onboarding links, transfers.

`StripeConnect` is mixed into `StripeProvider` (it uses the same `StripeClient`) and implements
`ports.ConnectProvider`: creating an organizer's Express account (idempotency key derived from
the organizer id, so a retry or a second request never opens a second account), account links
for onboarding, reading an account, transfers of separate charges and their reversals, and
reading `account.updated`. `connect_params` adds the destination-charge fields
(`transfer_data.destination`, `application_fee_amount`, `on_behalf_of`) or the separate
charge's `transfer_group` to a PaymentIntent create. Decisions are the core's; this module only
translates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import stripe

from eventpay.domain import Money
from eventpay.ports import (
    AccountLink,
    AccountState,
    CreatePayment,
    CreateTransfer,
    ProviderTransfer,
)
from eventpay.providers.stripe_currency import from_stripe, to_stripe
from eventpay.providers.stripe_errors import malformed, translate

ACCOUNT_EVENTS = frozenset({"account.updated"})


def _call(request: Callable[[], stripe.StripeObject]) -> dict[str, Any]:
    try:
        answer = request()
    except stripe.StripeError as exc:
        raise translate(exc) from None
    return answer.to_dict()


def account_key(organizer_id: str) -> str:
    return f"eventpay-account-{organizer_id}"


def connect_params(request: CreatePayment, *, on_behalf_of: bool) -> dict[str, Any]:
    """The Connect fields of a PaymentIntent create for `request` (none for a plain charge)."""
    params: dict[str, Any] = {}
    if request.transfer_destination is not None:
        params["transfer_data"] = {"destination": request.transfer_destination}
        params["application_fee_amount"] = to_stripe(
            Money(request.application_fee or 0, request.amount.currency)
        )
        if on_behalf_of:
            params["on_behalf_of"] = request.transfer_destination
    if request.transfer_group is not None:
        params["transfer_group"] = request.transfer_group
    return params


def account_state(account: Mapping[str, Any], *, as_of: int | None = None) -> AccountState:
    account_id = account.get("id")
    if not isinstance(account_id, str) or account.get("object") not in (None, "account"):
        raise malformed("an account without its id")
    requirements = account.get("requirements")
    due = requirements.get("currently_due") if isinstance(requirements, Mapping) else None
    return AccountState(
        account_id=account_id,
        charges_enabled=account.get("charges_enabled") is True,
        payouts_enabled=account.get("payouts_enabled") is True,
        details_submitted=account.get("details_submitted") is True,
        requirements_due=tuple(str(d) for d in due) if isinstance(due, list) else (),
        as_of=as_of,
    )


def _transfer(answer: Mapping[str, Any]) -> ProviderTransfer:
    try:
        currency = str(answer["currency"])
        return ProviderTransfer(
            transfer_id=str(answer["id"]),
            amount=from_stripe(int(answer["amount"]), currency),
            destination=str(answer["destination"]),
            reversed_amount=from_stripe(int(answer.get("amount_reversed") or 0), currency).amount,
        )
    except (KeyError, TypeError, ValueError):
        raise malformed("a transfer without its id, amount, currency or destination") from None


class StripeConnect:
    """`ports.ConnectProvider` on a `StripeClient` (`self._client`, set by the adapter)."""

    _client: stripe.StripeClient

    def create_account(
        self, *, organizer_id: str, email: str | None, idempotency_key: str
    ) -> AccountState:
        params: Any = {
            "type": "express",
            "capabilities": {
                "card_payments": {"requested": True},
                "transfers": {"requested": True},
            },
            "metadata": {"organizer_id": organizer_id},
        }
        if email:
            params["email"] = email
        options: Any = {"idempotency_key": idempotency_key}
        accounts = self._client.v1.accounts
        return account_state(_call(lambda: accounts.create(params=params, options=options)))

    def create_account_link(
        self, *, account_id: str, refresh_url: str, return_url: str
    ) -> AccountLink:
        params: Any = {
            "account": account_id,
            "refresh_url": refresh_url,
            "return_url": return_url,
            "type": "account_onboarding",
        }
        links = self._client.v1.account_links
        answer = _call(lambda: links.create(params=params))
        url, expires_at = answer.get("url"), answer.get("expires_at")
        if not isinstance(url, str) or not isinstance(expires_at, int):
            raise malformed("an account link without its url")
        return AccountLink(url=url, expires_at=expires_at)

    def retrieve_account(self, account_id: str) -> AccountState:
        accounts = self._client.v1.accounts
        return account_state(_call(lambda: accounts.retrieve(account_id)))

    def create_transfer(self, request: CreateTransfer) -> ProviderTransfer:
        params: Any = {
            "amount": to_stripe(request.amount),
            "currency": request.amount.currency,
            "destination": request.destination,
            "transfer_group": request.transfer_group,
            "metadata": dict(request.metadata),
        }
        if request.source_transaction is not None:
            params["source_transaction"] = request.source_transaction
        options: Any = {"idempotency_key": request.idempotency_key}
        transfers = self._client.v1.transfers
        return _transfer(_call(lambda: transfers.create(params=params, options=options)))

    def create_transfer_reversal(
        self, *, transfer_id: str, amount: Money, idempotency_key: str
    ) -> ProviderTransfer:
        params: Any = {"amount": to_stripe(amount)}
        options: Any = {"idempotency_key": idempotency_key}
        reversals = self._client.v1.transfers.reversals
        made = _call(lambda: reversals.create(transfer_id, params=params, options=options))
        transfers = self._client.v1.transfers
        after = _transfer(_call(lambda: transfers.retrieve(transfer_id)))
        reversal_id = made.get("id")
        if not isinstance(reversal_id, str):
            raise malformed("a transfer reversal without its id")
        return replace(after, reversal_id=reversal_id)

    def parse_account_event(
        self, event_type: str, payload: Mapping[str, Any]
    ) -> AccountState | None:
        """`account.updated` (data.object is the account); None for other events."""
        if event_type not in ACCOUNT_EVENTS:
            return None
        data = payload.get("data")
        account = data.get("object") if isinstance(data, Mapping) else None
        if not isinstance(account, Mapping):
            raise malformed("an account event without its account")
        created = payload.get("created")
        return account_state(account, as_of=created if isinstance(created, int) else None)
