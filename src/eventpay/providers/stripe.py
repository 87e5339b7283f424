"""Stripe adapter: PaymentIntents and Refunds through the official SDK's `StripeClient`.

The API base is configurable so the same code talks to Stripe, the project's sandbox or
localstripe. Every create carries an idempotency key derived from our attempt id, so a retried
create after a timeout returns the same object instead of making a second one; Stripe keeps a
key about 24 hours (`capabilities.idempotency_window`), after which the core reads Stripe first
(`find_payment`, `find_refunds`) instead of re-sending. Amounts cross in stripe_currency.py,
errors are classified in stripe_errors.py and answers are read in stripe_objects.py; an amount
Stripe cannot take is refused here before any call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import stripe

from eventpay.domain import Money
from eventpay.domain.reconciliation import Movement, MovementRow
from eventpay.ports import (
    Capabilities,
    CreatePayment,
    PaymentUpdate,
    ProviderName,
    ProviderPayment,
    ProviderRefund,
    ProviderRejected,
    RefundRequest,
    RefundUpdate,
)
from eventpay.providers import stripe_objects as read
from eventpay.providers.stripe_balance import REPORT_TYPE, report_rows
from eventpay.providers.stripe_balance import movements as balance_movements
from eventpay.providers.stripe_balance import organizer_movements as transfer_movements
from eventpay.providers.stripe_connect import StripeConnect, connect_params
from eventpay.providers.stripe_currency import amount_step, refusal, to_stripe
from eventpay.providers.stripe_errors import malformed, translate

# Refunds and search results are read 100 at a time (Stripe's largest page); a payment with
# more than this many pages of refunds is not a payment eventpay made.
_PAGE = 100
_MAX_PAGES = 50
# When a lost create was re-sent after its key expired there may be two intents for one
# attempt; the one that moved money is the one to adopt.
_PREFERENCE = ("succeeded", "processing", "requires_capture", "requires_action")


def stripe_client(
    *, secret_key: str, api_base: str, timeout_s: float, max_network_retries: int = 0
) -> stripe.StripeClient:
    base = api_base.rstrip("/")
    return stripe.StripeClient(
        secret_key,
        base_addresses={"api": base, "connect": base, "files": base},
        max_network_retries=max_network_retries,
        http_client=stripe.HTTPXClient(timeout=timeout_s, allow_sync_methods=True),
    )


def _call(request: Callable[[], stripe.StripeObject]) -> dict[str, Any]:
    """Run one SDK request; its answer as a plain dict, or our error for its failure."""
    try:
        answer = request()
    except stripe.StripeError as exc:
        raise translate(exc) from None
    return answer.to_dict()


def _copy(params: Mapping[str, Any]) -> Any:
    # The SDK types each call's params as its own TypedDict; ours are built at run time.
    return dict(params)


def _refused_unless_representable(amount: Money) -> None:
    why = refusal(amount)
    if why is not None:
        raise ProviderRejected("unsupported_amount", why)


def _search_literal(value: str) -> str:
    """`value` quoted for Stripe's search language (backslash escapes quotes)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


_FEE_PATH = "latest_charge.balance_transaction"


class StripeProvider(StripeConnect):
    name = ProviderName.STRIPE
    capabilities = Capabilities(
        partial_refund=True,
        payouts=False,
        disputes=False,
        client_confirmation=True,
        payment_lookup=True,
        reconciliation=True,
        idempotency_window=timedelta(hours=24),
        connect=True,
    )

    def __init__(
        self,
        client: stripe.StripeClient,
        *,
        omit_params: frozenset[str] = frozenset(),
        page_size: int = _PAGE,
        on_behalf_of: bool = True,
    ) -> None:
        # `on_behalf_of`: destination charges name the organizer as the merchant of record.
        self._on_behalf_of = on_behalf_of
        # `omit_params` exists for localstripe, which rejects parameters real Stripe requires
        # us to send (automatic_payment_methods, description); production never sets it.
        # `page_size` (1..100) is how many refunds or search results one request reads.
        self._client = client
        self._omit = omit_params
        self._page = max(1, min(page_size, _PAGE))

    def refusal_for(self, amount: Money) -> str | None:
        return refusal(amount)

    def amount_step(self, currency: str) -> int:
        return amount_step(currency)

    def create_payment(self, request: CreatePayment) -> ProviderPayment:
        _refused_unless_representable(request.amount)
        params: Any = {
            "amount": to_stripe(request.amount),
            "currency": request.amount.currency,
            "automatic_payment_methods": {"enabled": True},
            "description": request.description,
            "metadata": dict(request.metadata),
            **connect_params(request, on_behalf_of=self._on_behalf_of),
        }
        for name in self._omit:
            params.pop(name, None)
        intents = self._client.v1.payment_intents
        options: Any = {"idempotency_key": request.idempotency_key}
        return read.to_payment(_call(lambda: intents.create(params=params, options=options)))

    def retrieve_payment(self, provider_ref: str) -> ProviderPayment:
        intents = self._client.v1.payment_intents
        # The charge's balance transaction carries Stripe's fee: read in the same call.
        params: Any = {} if "expand" in self._omit else {"expand": [_FEE_PATH]}
        return read.to_payment(_call(lambda: intents.retrieve(provider_ref, params=params)))

    def cancel_payment(self, provider_ref: str, *, idempotency_key: str) -> ProviderPayment:
        intents = self._client.v1.payment_intents
        options: Any = {"idempotency_key": idempotency_key}
        return read.to_payment(_call(lambda: intents.cancel(provider_ref, options=options)))

    def capture_payment(self, provider_ref: str, *, idempotency_key: str) -> ProviderPayment:
        # Intents are created with automatic capture: the money moved on confirmation.
        return self.retrieve_payment(provider_ref)

    def find_payment(self, *, payment_id: str) -> ProviderPayment | None:
        """The PaymentIntent whose `metadata.payment_id` is ours (Stripe's search API)."""
        query = f"metadata['payment_id']:{_search_literal(payment_id)}"
        params: Any = {"query": query, "limit": self._page}
        found: list[dict[str, Any]] = []
        for _ in range(_MAX_PAGES):
            page = _call(partial(self._client.v1.payment_intents.search, params=_copy(params)))
            found.extend(self._listed(page))
            next_page = page.get("next_page")
            if not page.get("has_more") or not isinstance(next_page, str):
                break
            params["page"] = next_page
        # Search matches case-insensitively; only our exact id counts.
        candidates = [(intent.get("status"), read.to_payment(intent)) for intent in found]
        ours = [
            (status, p) for status, p in candidates if p.metadata.get("payment_id") == payment_id
        ]
        for wanted in _PREFERENCE:
            for status, payment in ours:
                if status == wanted:
                    return payment
        return ours[0][1] if ours else None

    def refund_payment(self, request: RefundRequest) -> ProviderRefund:
        _refused_unless_representable(request.amount)
        params: Any = {
            "payment_intent": request.payment_provider_ref,
            "amount": to_stripe(request.amount),
            "metadata": {"refund_id": request.refund_id, "reason": request.reason[:500]},
        }
        if request.reverse_transfer:
            params["reverse_transfer"] = True
        if request.refund_application_fee:
            params["refund_application_fee"] = True
        refunds = self._client.v1.refunds
        options: Any = {"idempotency_key": request.idempotency_key}
        return read.to_refund(_call(lambda: refunds.create(params=params, options=options)))

    def retrieve_refund(self, provider_refund_id: str) -> ProviderRefund:
        refunds = self._client.v1.refunds
        return read.to_refund(_call(lambda: refunds.retrieve(provider_refund_id)))

    def find_refunds(
        self, *, payment_provider_ref: str, capture_id: str | None
    ) -> Sequence[ProviderRefund]:
        """Every refund of the PaymentIntent, following Stripe's pages to the end."""
        params: Any = {"payment_intent": payment_provider_ref, "limit": self._page}
        found: list[ProviderRefund] = []
        for _ in range(_MAX_PAGES):
            page = _call(partial(self._client.v1.refunds.list, params=_copy(params)))
            listed = self._listed(page)
            found.extend(read.to_refund(item) for item in listed)
            if not page.get("has_more"):
                return found
            if not listed:
                raise malformed("a page of refunds that is empty yet has more")
            params["starting_after"] = listed[-1]["id"]
        raise malformed(f"more than {_MAX_PAGES} pages of refunds for {payment_provider_ref}")

    def movements(self, *, since: datetime, until: datetime) -> Iterator[Movement]:
        """Stripe's balance transactions of charges and refunds in [since, until)."""
        transactions = self._client.v1.balance_transactions

        def fetch(params: dict[str, Any]) -> Mapping[str, Any]:
            return _call(partial(transactions.list, params=params))  # type: ignore[arg-type]

        return balance_movements(fetch, since=since, until=until, page_size=self._page)

    def organizer_movements(self, *, since: datetime, until: datetime) -> Iterator[Movement]:
        """Transfers to connected accounts and their reversals in [since, until)."""
        transactions = self._client.v1.balance_transactions

        def fetch(params: dict[str, Any]) -> Mapping[str, Any]:
            return _call(partial(transactions.list, params=params))  # type: ignore[arg-type]

        return transfer_movements(fetch, since=since, until=until, page_size=self._page)

    def movement_rows(self, *, since: datetime, until: datetime) -> Iterator[MovementRow]:
        """The same movements from one balance report run (`stripe_balance.report_rows`)."""
        reporting = self._client.v1.reporting
        runs = reporting.report_runs

        def available_until() -> int:
            found = _call(partial(reporting.report_types.retrieve, REPORT_TYPE))
            return int(found["data_available_end"])

        def create(params: dict[str, Any], key: str) -> Mapping[str, Any]:
            return _call(partial(runs.create, params=params, options={"idempotency_key": key}))  # type: ignore[arg-type]

        def retrieve(run_id: str) -> Mapping[str, Any]:
            return _call(partial(runs.retrieve, run_id))

        def download(file_id: str) -> Iterator[bytes]:
            # The SDK has no call for a file's contents (not JSON); its requestor streams them
            # from the "files" base address with the same key, retries and errors.
            answer = self._client._requestor.request_stream(
                "get", f"/v1/files/{file_id}/contents", base_address="files"
            )
            return iter(answer.io)

        return report_rows(
            available_until=available_until,
            create=create,
            retrieve=retrieve,
            download=download,
            paged=lambda start, end: self.movements(since=start, until=end),
            since=since,
            until=until,
        )

    @staticmethod
    def _listed(page: Mapping[str, Any]) -> list[dict[str, Any]]:
        data = page.get("data")
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise malformed("a list without its data")
        if not all(isinstance(item.get("id"), str) for item in data):
            raise malformed("a listed object without an id")
        return data

    def parse_refund_event(
        self, event_type: str, payload: Mapping[str, Any]
    ) -> RefundUpdate | None:
        """`refund.created/updated/failed` (data.object is the refund); None for others.

        The refund names its `payment_intent` and `charge` and carries `amount` and
        `currency`, whoever made it: ours also carry our id in `metadata.refund_id`.
        """
        if event_type not in read.REFUND_EVENTS:
            return None
        return read.refund_update(_event_object(payload))

    def parse_event(self, event_type: str, payload: Mapping[str, Any]) -> PaymentUpdate | None:
        """Reduce a Stripe event to a payment update; None for events that move no attempt."""
        status = read.EVENT_STATUS.get(event_type)
        if status is None:
            return None
        return read.payment_update(status, _event_object(payload))


def _event_object(payload: Mapping[str, Any]) -> Any:
    data = payload.get("data")
    if not isinstance(data, Mapping):
        raise malformed("an event without data")
    return data.get("object")
