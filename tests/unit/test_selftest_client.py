"""The self-test's HTTP client waits out a 429 like a polite client, within a bound."""

from __future__ import annotations

import httpx

from eventpay.selftest.client import PoliteTransport


def _limited_then_ok(limited: int, retry_after: str = "2") -> tuple[httpx.MockTransport, list[int]]:
    calls: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(len(calls))
        if len(calls) <= limited:
            return httpx.Response(429, headers={"Retry-After": retry_after}, json={"error": {}})
        return httpx.Response(201, json={"body": request.content.decode()})

    return httpx.MockTransport(answer), calls


def test_a_rate_limited_request_is_sent_again_after_retry_after() -> None:
    inner, calls = _limited_then_ok(2)
    slept: list[float] = []
    with httpx.Client(transport=PoliteTransport(inner, sleep=slept.append)) as client:
        response = client.post("http://service/v1/orders", content=b'{"items": []}')
    assert response.status_code == 201
    assert response.json() == {"body": '{"items": []}'}  # the same body, sent again
    assert slept == [2.0, 2.0]
    assert len(calls) == 3


def test_it_gives_up_after_the_longest_wait_and_shows_the_429() -> None:
    inner, calls = _limited_then_ok(100, retry_after="20")
    slept: list[float] = []
    transport = PoliteTransport(inner, sleep=slept.append, max_wait_s=30)
    with httpx.Client(transport=transport) as client:
        response = client.get("http://service/v1/orders/x")
    assert response.status_code == 429
    assert slept == [20.0]
    assert len(calls) == 2


def test_an_unreadable_retry_after_waits_one_second() -> None:
    inner, _ = _limited_then_ok(1, retry_after="soon")
    slept: list[float] = []
    with httpx.Client(transport=PoliteTransport(inner, sleep=slept.append)) as client:
        assert client.get("http://service/v1/events").status_code == 201
    assert slept == [1.0]
