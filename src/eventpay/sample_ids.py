"""The names the sample catalog is known by: plain strings, importing nothing.

`sample_data` seeds the catalog under these ids; the black-box self-test, which may not import
the core (`sample_data` reaches the services), addresses the seeded catalog and members by them.
"""

ORGANIZER_ID = "org-bassline"
MEMBER_ID = "competitor-1001"
NON_MEMBER_ID = "competitor-2002"

OPEN_EVENT = "spring-sound-off"
"""Registration open, early-bird price active, full refund until 14 days before."""
OPEN_CLASSES = ("spring-spl", "spring-sq")
LATER_EVENT = "summer-bass-bash"
"""Registration opens in 30 days."""
CLOSED_EVENT = "winter-warm-up"
"""Registration closed yesterday."""
CLOSED_CLASS = "winter-spl"

PAYOUT_ORGANIZER_ID = "org-sundown"
"""Paid through PayPal Payouts at an address the PayPal sandbox pays (SUCCESS)."""
PAYOUT_EVENT = "sundown-showdown"
UNCLAIMED_ORGANIZER_ID = "org-riverside"
"""Paid at an `unclaimed@` address: the PayPal sandbox leaves the item UNCLAIMED."""
UNCLAIMED_EVENT = "riverside-rumble"
CONNECT_ORGANIZER_A = "org-connect-a"
"""Starts without a Stripe connected account; the self-test onboards it."""
CONNECT_EVENT_A = "connect-a-open"
CONNECT_ORGANIZER_B = "org-connect-b"
CONNECT_EVENT_B = "connect-b-open"

__all__ = [
    "CLOSED_CLASS",
    "CLOSED_EVENT",
    "CONNECT_EVENT_A",
    "CONNECT_EVENT_B",
    "CONNECT_ORGANIZER_A",
    "CONNECT_ORGANIZER_B",
    "LATER_EVENT",
    "MEMBER_ID",
    "NON_MEMBER_ID",
    "OPEN_CLASSES",
    "OPEN_EVENT",
    "ORGANIZER_ID",
    "PAYOUT_EVENT",
    "PAYOUT_ORGANIZER_ID",
    "UNCLAIMED_EVENT",
    "UNCLAIMED_ORGANIZER_ID",
]
