"""`GET /v1/payment_intents/search`: Stripe's query language and its `search_result` shape.

The old sandbox had no search route: `/v1/payment_intents/search` was read as the id "search"
(404 resource_missing), so a PaymentIntent could not be found by the metadata we set.
"""

from __future__ import annotations

import httpx
import pytest
import stripe


def _intent(client: stripe.StripeClient, payment_id: str, **more: object) -> stripe.PaymentIntent:
    params = {"amount": 4500, "currency": "eur", "metadata": {"payment_id": payment_id}, **more}
    return client.v1.payment_intents.create(params=params)  # type: ignore[arg-type]


def test_metadata_equality_finds_the_intent(client: stripe.StripeClient) -> None:
    wanted = _intent(client, "pay-1")
    _intent(client, "pay-2")

    found = client.v1.payment_intents.search(params={"query": "metadata['payment_id']:'pay-1'"})

    assert [pi.id for pi in found.data] == [wanted.id]
    assert found.object == "search_result"
    assert found.has_more is False
    assert found.next_page is None
    assert found.url == "/v1/payment_intents/search"


def test_double_quotes_and_and_clauses(client: stripe.StripeClient) -> None:
    paid = _intent(client, "pay-3", payment_method="pm_card_visa", confirm=True)
    _intent(client, "pay-3")

    found = client.v1.payment_intents.search(
        params={"query": 'metadata["payment_id"]:"pay-3" AND status:"succeeded"'}
    )
    none = client.v1.payment_intents.search(params={"query": "metadata['payment_id']:'nobody'"})

    assert [pi.id for pi in found.data] == [paid.id]
    assert none.data == []


def test_pages_follow_next_page(client: stripe.StripeClient) -> None:
    made = {_intent(client, "same").id for _ in range(3)}

    first = client.v1.payment_intents.search(
        params={"query": "metadata['payment_id']:'same'", "limit": 2}
    )
    assert first.has_more is True
    assert first.next_page
    second = client.v1.payment_intents.search(
        params={"query": "metadata['payment_id']:'same'", "limit": 2, "page": first.next_page}
    )

    assert second.has_more is False
    assert {pi.id for pi in [*first.data, *second.data]} == made


@pytest.mark.parametrize(
    "query",
    ["metadata['payment_id']=pay", "colour:'red'", "status:'a' AND currency:'b' OR amount:1"],
)
def test_a_query_stripe_cannot_read_is_a_parameter_error(
    client: stripe.StripeClient, query: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.search(params={"query": query})

    assert caught.value.http_status == 400
    assert caught.value.param == "query"


def test_search_needs_a_secret_key(http: httpx.Client) -> None:
    answer = http.get(
        "/v1/payment_intents/search",
        params={"query": "status:'succeeded'", "key": "pk_test_sandbox"},
    )

    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "secret_key_required"
