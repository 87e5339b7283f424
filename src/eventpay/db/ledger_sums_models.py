"""The ledger's running sums: what each order holds on each account, kept by `post`.

`ledger verify` compares every order's postings with its attempts. Grouping millions of
postings by order and account on every run is what made it slow, so `SqlLedgerRepository.post`
adds each posting of an order's transaction to its row here in the same unit of work. The rows
are a cache, never the truth: verify proves them equal to the postings (a checksum over both,
`db.ledger_checks`) before it reads them, and reads the postings themselves when they are not.
Transactions without an order (payouts, Connect transfers) have no row here; their postings are
covered by the per-transaction balance check, which reads every posting.

Unlike the postings, these rows are updated in place (an upsert per account), so they carry no
append-only trigger.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from eventpay.db.models import Base


class LedgerOrderSumRow(Base):
    """The sum of an order's postings on one account."""

    __tablename__ = "ledger_order_sums"
    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(50), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    amount: Mapped[int] = mapped_column(BigInteger)
