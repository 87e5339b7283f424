"""The skeleton every sandbox store shares: one re-entrant lock, the current state, a listener.

A sandbox's `Store` subclasses `LockedStore` with its own state dataclass. A route holds
`store.lock` for the whole of an operation, so concurrent requests see each state change whole;
a reset swaps in a fresh state under the lock. Events are recorded by the provider's store and
announced to the listener (the webhook dispatcher) after the lock is released; the listener
must not block, since delivery happens in the background, never inside the request that caused
the event. What the state holds, how events look and who wants them are the provider's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

EventListener = Callable[[str, list[str]], None]
StateT = TypeVar("StateT")


class LockedStore(Generic[StateT]):
    """State behind `lock`; call the subclass's methods with `lock` held when several must agree."""

    def __init__(self, new_state: Callable[[], StateT]) -> None:
        self.lock = threading.RLock()
        self._new_state = new_state
        self._listener: EventListener | None = None
        self._state = new_state()

    @property
    def state(self) -> StateT:
        return self._state

    def set_listener(self, listener: EventListener | None) -> None:
        self._listener = listener

    def _start_over(self) -> None:
        """Replace everything with a fresh, empty state; call with `lock` held."""
        self._state = self._new_state()

    def _announce(self, event_id: str, targets: list[str]) -> None:
        """Tell the listener which targets want an event; call after releasing `lock`."""
        listener = self._listener
        if listener is not None and targets:
            listener(event_id, targets)
