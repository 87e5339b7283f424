"""What becomes of each payout item, chosen by its receiver, and the item's later life.

The sandbox's documented rule (PayPal's own sandbox has no such switch; its statuses are those
of the specification's `transaction_enum` and its events those of PayPal's Payouts webhook
table). For an EMAIL receiver, the local part decides, ignoring case and any `+tag`
(`returned+org42@example.com` is `returned`):

    receiver                     item settles as   errors.name              event
    unclaimed@...                UNCLAIMED         RECEIVER_UNREGISTERED    PAYOUTS-ITEM.UNCLAIMED
    ...@unknown.example.com      UNCLAIMED         RECEIVER_UNREGISTERED    PAYOUTS-ITEM.UNCLAIMED
    returned@...                 RETURNED          RECEIVER_REFUSED         PAYOUTS-ITEM.RETURNED
    failed@...                   FAILED            RECEIVER_ACCOUNT_LOCKED  PAYOUTS-ITEM.FAILED
    blocked@...                  BLOCKED           REGULATORY_BLOCKED       PAYOUTS-ITEM.BLOCKED
    anything else (and PHONE,
    PAYPAL_ID receivers)         SUCCESS           -                        PAYOUTS-ITEM.SUCCEEDED

An item that moved money (SUCCESS, UNCLAIMED, RETURNED) gets a `transaction_id`; a FAILED or
BLOCKED one never left the account and has none. An UNCLAIMED item later becomes RETURNED
(PayPal returns unclaimed money after 30 days; the delay is the app's, see payouts.PayoutTiming)
or SUCCESS when the receiver claims it (`/_sandbox/payouts-item/{id}/claim`). A RETURNED item
keeps the reason it was first given. The return's own transaction id (the money coming back)
is kept in the store's `payout_returns` for transaction search. Operations expect the store's
lock held.
"""

from __future__ import annotations

from . import identifiers
from .errors import Issue, UnprocessableEntity
from .records import JSON
from .store import Store

UNCLAIMED_DOMAIN = "@unknown.example.com"
INFO = "https://developer.paypal.com/docs/api/payments.payouts-batch/#errors"

# local part -> (status, error name, error message)
_BY_LOCAL_PART: dict[str, tuple[str, str, str]] = {
    "unclaimed": ("UNCLAIMED", "RECEIVER_UNREGISTERED", "Receiver is unregistered"),
    "returned": ("RETURNED", "RECEIVER_REFUSED", "Receiver refused the payment"),
    "failed": ("FAILED", "RECEIVER_ACCOUNT_LOCKED", "Receiver account is locked or inactive"),
    "blocked": ("BLOCKED", "REGULATORY_BLOCKED", "This transaction is blocked by regulations"),
}
_EVENT = {
    "SUCCESS": "SUCCEEDED",
    "UNCLAIMED": "UNCLAIMED",
    "RETURNED": "RETURNED",
    "FAILED": "FAILED",
    "BLOCKED": "BLOCKED",
}
_SUMMARY = {
    "SUCCESS": "A payout item is succeeded",
    "UNCLAIMED": "A payout item is unclaimed",
    "RETURNED": "A payout item has been returned",
    "FAILED": "A payout item has failed",
    "BLOCKED": "A payout item has been blocked",
}
MOVED_MONEY = frozenset({"SUCCESS", "UNCLAIMED", "RETURNED"})
DENIED = frozenset({"FAILED", "BLOCKED"})


def outcome_for(recipient_type: str, receiver: str) -> tuple[str, str | None, str | None]:
    """(status, error name, error message) for an item paid to `receiver`."""
    if recipient_type != "EMAIL":
        return "SUCCESS", None, None
    address = receiver.lower()
    if address.endswith(UNCLAIMED_DOMAIN):
        return _BY_LOCAL_PART["unclaimed"]
    local = address.split("@", 1)[0].split("+", 1)[0]
    return _BY_LOCAL_PART.get(local, ("SUCCESS", None, None))


def _errors(name: str, message: str) -> JSON:
    return {
        "name": name,
        "message": message,
        "debug_id": identifiers.debug_id(),
        "information_link": INFO,
        "details": [],
    }


def settle(item: JSON) -> str:
    """Give a PENDING item its outcome now; returns the new status (the caller emits)."""
    detail = item["payout_item"]
    status, name, message = outcome_for(detail["recipient_type"], detail["receiver"])
    if status in MOVED_MONEY:
        item["transaction_id"] = identifiers.resource_id()
    item["transaction_status"] = status
    item["time_processed"] = identifiers.timestamp()
    if name is not None and message is not None:
        item["errors"] = _errors(name, message)
    return status


def emit(store: Store, item: JSON, rendered: JSON, base_url: str) -> None:
    """The PAYMENT.PAYOUTS-ITEM.* event for the item's current status."""
    status = item["transaction_status"]
    store.emit(
        f"PAYMENT.PAYOUTS-ITEM.{_EVENT[status]}",
        rendered,
        summary=_SUMMARY[status],
        base_url=base_url,
    )
    if status == "RETURNED":
        record_return(store, item)


def record_return(store: Store, item: JSON) -> None:
    """The money coming back is its own transaction (transaction search lists it)."""
    store.state.payout_returns.setdefault(
        item["payout_item_id"],
        {"transaction_id": identifiers.resource_id(), "time": identifiers.timestamp()},
    )


def move_unclaimed(item: JSON, to: str) -> None:
    """UNCLAIMED → RETURNED (PayPal gave up) or SUCCESS (the receiver claimed it)."""
    if item["transaction_status"] != "UNCLAIMED":
        raise UnprocessableEntity(
            Issue(
                "ITEM_INCORRECT_STATUS",
                field="transaction_status",
                value=str(item["transaction_status"]),
                location="path",
                description="Only an UNCLAIMED payout item can be returned or claimed.",
            )
        )
    item["transaction_status"] = to
    item["time_processed"] = identifiers.timestamp()
    if to == "SUCCESS":
        item.pop("errors", None)
