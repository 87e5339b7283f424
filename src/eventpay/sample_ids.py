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

__all__ = [
    "CLOSED_CLASS",
    "CLOSED_EVENT",
    "LATER_EVENT",
    "MEMBER_ID",
    "NON_MEMBER_ID",
    "OPEN_CLASSES",
    "OPEN_EVENT",
    "ORGANIZER_ID",
]
