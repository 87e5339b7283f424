"""`RateLimiter`: token buckets per key with a clock the tests move by hand."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventpay.web.rate_limiter import RateLimiter


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _allowed(limiter: RateLimiter, key: str, times: int) -> int:
    return sum(limiter.acquire(key).allowed for _ in range(times))


@pytest.fixture
def eager_thread_switching() -> Iterator[None]:
    """Switch threads every microsecond, so an unguarded read-modify-write races for real."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def test_a_new_key_gets_a_full_minute_then_waits_for_the_next_token() -> None:
    limiter = RateLimiter(per_minute=3, clock=FakeClock())

    assert _allowed(limiter, "u1", 3) == 3
    refused = limiter.acquire("u1")
    assert not refused.allowed
    assert refused.wait_s == pytest.approx(20.0)


def test_tokens_come_back_at_the_per_minute_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=3, clock=clock)
    _allowed(limiter, "u1", 3)

    clock.advance(15.0)
    early = limiter.acquire("u1")
    assert not early.allowed
    assert early.wait_s == pytest.approx(5.0)
    clock.advance(5.0)
    assert limiter.acquire("u1").allowed
    assert not limiter.acquire("u1").allowed
    clock.advance(40.0)
    assert _allowed(limiter, "u1", 3) == 2


def test_a_refused_request_takes_no_token() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=60, capacity=1, clock=clock)
    assert limiter.acquire("u1").allowed

    for _ in range(50):
        assert not limiter.acquire("u1").allowed
    clock.advance(1.0)
    assert limiter.acquire("u1").allowed


def test_an_idle_bucket_fills_only_up_to_its_capacity() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=60, capacity=5, clock=clock)
    _allowed(limiter, "u1", 5)

    clock.advance(3_600.0)
    assert _allowed(limiter, "u1", 10) == 5


def test_capacity_sets_the_burst_apart_from_the_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=60, capacity=2, clock=clock)

    assert _allowed(limiter, "u1", 5) == 2
    for _ in range(3):
        clock.advance(1.0)
        assert _allowed(limiter, "u1", 5) == 1


def test_keys_have_buckets_of_their_own() -> None:
    limiter = RateLimiter(per_minute=2, clock=FakeClock())
    assert _allowed(limiter, "u1", 5) == 2

    assert _allowed(limiter, "u2", 5) == 2
    assert not limiter.acquire("u1").allowed


def test_refilled_buckets_are_forgotten_and_busy_ones_kept() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=60, clock=clock)  # empty to full in 60 s
    _allowed(limiter, "spent", 60)
    limiter.acquire("idle")
    clock.advance(30.0)
    limiter.acquire("busy")
    assert len(limiter) == 3

    clock.advance(30.0)
    limiter.acquire("busy")
    assert len(limiter) == 1  # "spent" and "idle" had refilled: nothing to remember
    assert _allowed(limiter, "spent", 61) == 60  # forgetting it gave it nothing extra


def test_a_half_refilled_bucket_is_not_forgotten() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=60, clock=clock)
    _allowed(limiter, "spent", 60)

    clock.advance(30.0)
    for n in range(100):
        limiter.acquire(f"other-{n}")
    assert _allowed(limiter, "spent", 60) == 30


def test_memory_is_bounded_by_max_keys_keeping_the_most_recent() -> None:
    limiter = RateLimiter(per_minute=1, clock=FakeClock(), max_keys=100)

    for n in range(1_000):
        assert limiter.acquire(f"ip-{n}").allowed
    assert len(limiter) == 100
    assert not limiter.acquire("ip-999").allowed
    assert limiter.acquire("ip-0").allowed  # long forgotten: only ever too lenient


def test_a_clock_stepping_back_drains_nobody() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=60, capacity=2, clock=clock)
    assert limiter.acquire("u1").allowed

    clock.advance(-30.0)
    assert limiter.acquire("u1").allowed


@pytest.mark.parametrize(
    "kwargs",
    [{"per_minute": 0}, {"per_minute": 5, "capacity": 0}, {"per_minute": 5, "max_keys": 0}],
)
def test_nonsense_budgets_are_refused(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RateLimiter(**kwargs)


@pytest.mark.usefixtures("eager_thread_switching")
def test_threads_racing_for_one_key_get_exactly_the_capacity() -> None:
    limiter = RateLimiter(per_minute=1_000, clock=FakeClock())
    threads, tries = 8, 400
    barrier = threading.Barrier(threads)
    allowed = [0] * threads

    def hammer(n: int) -> None:
        barrier.wait()
        allowed[n] = _allowed(limiter, "shared", tries)

    workers = [threading.Thread(target=hammer, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sum(allowed) == 1_000


@pytest.mark.usefixtures("eager_thread_switching")
def test_threads_on_many_keys_keep_the_memory_bound() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=5, clock=clock, max_keys=64)
    threads = 8
    barrier = threading.Barrier(threads)
    results: list[list[bool]] = [[] for _ in range(threads)]

    def run(n: int) -> None:
        barrier.wait()
        for i in range(500):
            # Keys of their own per thread, far more than max_keys between them.
            results[n].append(limiter.acquire(f"t{n}-k{i % 40}").allowed)

    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(limiter) <= 64
    # Each thread's 40 keys got their 5 at least; a key forgotten under the bound came back full.
    for outcomes in results:
        assert sum(outcomes) >= 40 * 5


@given(
    per_minute=st.integers(min_value=1, max_value=10_000),
    capacity=st.integers(min_value=1, max_value=50),
    gaps=st.lists(st.floats(min_value=0.0, max_value=30.0), min_size=1, max_size=200),
)
def test_never_more_than_capacity_plus_what_refilled(
    per_minute: int, capacity: int, gaps: list[float]
) -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=per_minute, capacity=capacity, clock=clock)
    start = clock.now
    allowed = 0
    for gap in gaps:
        clock.advance(gap)
        allowed += limiter.acquire("k").allowed
    refilled = (clock.now - start) * per_minute / 60.0
    assert allowed <= capacity + refilled + 1e-6


@given(
    per_minute=st.integers(min_value=1, max_value=10_000),
    capacity=st.integers(min_value=1, max_value=50),
    extra=st.integers(min_value=1, max_value=20),
)
def test_waiting_as_long_as_told_is_always_enough(
    per_minute: int, capacity: int, extra: int
) -> None:
    clock = FakeClock(start=12_345.678)
    limiter = RateLimiter(per_minute=per_minute, capacity=capacity, clock=clock)
    assert _allowed(limiter, "k", capacity) == capacity
    for _ in range(extra):
        refused = limiter.acquire("k")
        assert not refused.allowed
        assert 0 < refused.wait_s <= 60.0 / per_minute + 1e-9
        clock.advance(refused.wait_s)
        assert limiter.acquire("k").allowed
