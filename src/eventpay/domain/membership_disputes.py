"""Which reported status of a membership charge's dispute is the one to keep.

Stripe delivers `charge.dispute.*` events in any order and more than once, so a late
`charge.dispute.updated` (needs_response) can arrive after `charge.dispute.closed` (lost). A
dispute only moves forward: an inquiry (`warning_*`) may become a dispute, a dispute is answered
and reviewed, and won, lost and warning_closed end it for good. The status kept is the one
furthest along; a final status is never replaced, by another final one included. A status
Stripe adds later ranks as just opened: it is kept until a known later status arrives.

What must not live here: the charge row, the audit record, money (a dispute moves no money in
eventpay's ledger yet).
"""

from __future__ import annotations

FINAL_DISPUTE_STATUSES = frozenset({"won", "lost", "warning_closed"})

_RANK = {
    "warning_needs_response": 0,
    "warning_under_review": 1,
    "needs_response": 2,
    "under_review": 3,
    **dict.fromkeys(FINAL_DISPUTE_STATUSES, 4),
}


def dispute_status_after(current: str | None, reported: str) -> str:
    """The status to keep when ``reported`` arrives for a dispute now at ``current``."""
    if current is None or current == reported:
        return reported
    if current in FINAL_DISPUTE_STATUSES:
        return current
    return reported if _RANK.get(reported, 0) >= _RANK.get(current, 0) else current
