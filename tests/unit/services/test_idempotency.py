"""API idempotency keys: claim, replay, refuse reuse, lease expiry, release on 5xx."""

from __future__ import annotations

from datetime import timedelta

import pytest

from eventpay.services import idempotency
from eventpay.services.errors import Conflict, InvalidRequest
from eventpay.services.idempotency import LEASE, StoredResponse, canonical_body, fingerprint

from .fakes import FakeClock, FakeUnitOfWorkFactory

PRINCIPAL = "competitor-2002"
KEY = "9b2f3c1e-order-create"
FP = fingerprint("POST", "/orders", b'{"items": [1]}')
OTHER_FP = fingerprint("POST", "/orders", b'{"items": [2]}')


@pytest.fixture
def uows() -> FakeUnitOfWorkFactory:
    return FakeUnitOfWorkFactory()


def begin(
    uows: FakeUnitOfWorkFactory,
    clock: FakeClock,
    *,
    key: str = KEY,
    fp: str = FP,
    principal: str = PRINCIPAL,
) -> StoredResponse | None:
    return idempotency.begin(
        uow_factory=uows, principal=principal, key=key, request_fingerprint=fp, now=clock()
    )


def complete(uows: FakeUnitOfWorkFactory, *, status: int, body: str, key: str = KEY) -> None:
    idempotency.complete(uow_factory=uows, principal=PRINCIPAL, key=key, status=status, body=body)


def test_first_use_claims_the_key_with_a_lease(
    uows: FakeUnitOfWorkFactory, clock: FakeClock
) -> None:
    assert begin(uows, clock) is None

    record = uows.store.tables.idempotency[(PRINCIPAL, KEY)]
    assert record.fingerprint == FP
    assert record.locked_until == clock() + LEASE
    assert record.response_status is None


def test_a_completed_request_is_replayed_byte_for_byte(
    uows: FakeUnitOfWorkFactory, clock: FakeClock
) -> None:
    body = '{"id": "ord_1", "total": 4000}'
    begin(uows, clock)
    complete(uows, status=201, body=body)
    clock.advance(hours=2)

    replayed = begin(uows, clock)

    assert replayed == StoredResponse(status=201, body=body)
    assert uows.store.tables.idempotency[(PRINCIPAL, KEY)].locked_until is None


def test_a_4xx_answer_is_stored_and_replayed_too(
    uows: FakeUnitOfWorkFactory, clock: FakeClock
) -> None:
    begin(uows, clock)
    complete(uows, status=422, body='{"code": "unknown_class"}')

    assert begin(uows, clock) == StoredResponse(422, '{"code": "unknown_class"}')


@pytest.mark.parametrize("completed", [False, True], ids=["running", "completed"])
def test_the_same_key_with_another_body_is_refused(
    uows: FakeUnitOfWorkFactory, clock: FakeClock, completed: bool
) -> None:
    begin(uows, clock)
    if completed:
        complete(uows, status=201, body="{}")
    before = uows.store.snapshot().idempotency

    with pytest.raises(InvalidRequest) as raised:
        begin(uows, clock, fp=OTHER_FP)

    assert raised.value.code == "idempotency_key_reused"
    assert uows.store.tables.idempotency == before


def test_a_live_lease_means_the_key_is_in_use(
    uows: FakeUnitOfWorkFactory, clock: FakeClock
) -> None:
    begin(uows, clock)
    clock.advance(LEASE - timedelta(microseconds=1))

    with pytest.raises(Conflict) as raised:
        begin(uows, clock)

    assert raised.value.code == "idempotency_key_in_use"


def test_an_expired_lease_is_taken_over(uows: FakeUnitOfWorkFactory, clock: FakeClock) -> None:
    begin(uows, clock)
    clock.advance(LEASE)

    assert begin(uows, clock) is None

    record = uows.store.tables.idempotency[(PRINCIPAL, KEY)]
    assert record.locked_until == clock() + LEASE
    with pytest.raises(Conflict):  # and the new holder's lease is live again
        begin(uows, clock)


def test_a_5xx_answer_releases_the_key(uows: FakeUnitOfWorkFactory, clock: FakeClock) -> None:
    begin(uows, clock)

    complete(uows, status=503, body='{"code": "provider_outcome_unknown"}')

    assert (PRINCIPAL, KEY) not in uows.store.tables.idempotency
    assert begin(uows, clock, fp=OTHER_FP) is None  # free for any request now


def test_completing_an_unknown_key_stores_nothing(
    uows: FakeUnitOfWorkFactory, clock: FakeClock
) -> None:
    complete(uows, status=201, body="{}", key="never-begun")

    assert uows.store.tables.idempotency == {}


def test_keys_are_scoped_per_principal(uows: FakeUnitOfWorkFactory, clock: FakeClock) -> None:
    begin(uows, clock)

    assert begin(uows, clock, principal="competitor-1001", fp=OTHER_FP) is None
    assert len(uows.store.tables.idempotency) == 2


@pytest.mark.parametrize("length", [0, 256, 1000])
def test_keys_outside_1_to_255_characters_are_refused(
    uows: FakeUnitOfWorkFactory, clock: FakeClock, length: int
) -> None:
    with pytest.raises(InvalidRequest) as raised:
        begin(uows, clock, key="k" * length)

    assert raised.value.code == "invalid_idempotency_key"
    assert uows.store.tables.idempotency == {}


@pytest.mark.parametrize("length", [1, 255])
def test_keys_of_1_and_255_characters_are_accepted(
    uows: FakeUnitOfWorkFactory, clock: FakeClock, length: int
) -> None:
    assert begin(uows, clock, key="k" * length) is None
    assert ("k" * length) in {key for _, key in uows.store.tables.idempotency}


def test_fingerprint_separates_method_path_and_body() -> None:
    base = fingerprint("POST", "/orders", b"{}")

    assert fingerprint("post", "/orders", b"{}") == base
    assert fingerprint("PUT", "/orders", b"{}") != base
    assert fingerprint("POST", "/orders/", b"{}") != base
    assert fingerprint("POST", "/orders", b"[]") != base
    # Length-prefixed parts: moving bytes from the path to the body changes the fingerprint.
    assert fingerprint("POST", "/a", b"bc") != fingerprint("POST", "/ab", b"c")


@pytest.mark.parametrize(
    "respelled",
    [
        b'{"items":[{"kind":"registration","class_ids":["a","b"]}],"note":"\xc3\xa9"}',
        b'{ "note" : "\\u00e9",\n  "items": [ { "class_ids": ["a", "b"],\n'
        b'  "kind": "registration" } ] }',
    ],
    ids=["compact", "spaced-reordered-escaped"],
)
def test_the_same_json_spelled_differently_has_one_fingerprint(respelled: bytes) -> None:
    sent = b'{"items": [{"kind": "registration", "class_ids": ["a", "b"]}], "note": "\xc3\xa9"}'

    assert fingerprint("POST", "/orders", respelled) == fingerprint("POST", "/orders", sent)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (b'{"class_ids": ["a", "b"]}', b'{"class_ids": ["b", "a"]}'),  # list order matters
        (b'{"amount": 1}', b'{"amount": "1"}'),
        (b'{"amount": 1}', b'{"amount": 1, "extra": null}'),
    ],
)
def test_different_json_values_keep_different_fingerprints(one: bytes, other: bytes) -> None:
    assert fingerprint("POST", "/orders", one) != fingerprint("POST", "/orders", other)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (b"a=1&b=2", b"b=2&a=1"),
        (b'{"a": 1', b'{"a":1'),  # truncated JSON is not canonicalised
        (b"\xff\xfe{}", b"\xff\xfe{ }"),  # not UTF-8 either
    ],
)
def test_a_body_that_is_not_json_is_fingerprinted_as_sent(one: bytes, other: bytes) -> None:
    assert canonical_body(one) == one
    assert fingerprint("POST", "/orders", one) != fingerprint("POST", "/orders", other)
    assert fingerprint("POST", "/orders", one) == fingerprint("POST", "/orders", bytes(one))


def test_a_lone_surrogate_in_a_json_string_still_fingerprints() -> None:
    assert canonical_body(b'{"a": "\\ud800"}') != canonical_body(b'{"a": "\\ud801"}')


def test_a_retry_with_the_body_respelled_replays_instead_of_refusing(
    uows: FakeUnitOfWorkFactory, clock: FakeClock
) -> None:
    begin(uows, clock, fp=fingerprint("POST", "/orders", b'{"items": [1], "note": "x"}'))
    complete(uows, status=201, body='{"id": "ord_1"}')

    respelled = fingerprint("POST", "/orders", b'{"note":"x","items":[1]}')

    assert begin(uows, clock, fp=respelled) == StoredResponse(201, '{"id": "ord_1"}')
