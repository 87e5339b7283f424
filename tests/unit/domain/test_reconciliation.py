"""Reconciliation's comparison: every difference named, in a stable order."""

from __future__ import annotations

from eventpay.domain import Money
from eventpay.domain.reconciliation import MismatchKind, Movement, compare, movement_of, row_of


def usd(amount: int) -> Money:
    return Money(amount, "usd")


def test_agreeing_sides_are_clean() -> None:
    ours = [Movement("ch_1", "payment", usd(4000), usd(146), "p1")]
    theirs = [Movement("ch_1", "payment", usd(4000), usd(146))]
    assert compare(ours, theirs) == []


def test_every_kind_of_difference_is_named_in_reference_order() -> None:
    ours = [
        Movement("ch_b", "payment", usd(4000), usd(146), "p_b"),  # amount differs
        Movement("ch_c", "payment", usd(4000), usd(100), "p_c"),  # fee differs
        Movement("ch_d", "payment", usd(4000), None, "p_d"),  # currency differs
        Movement("re_e", "refund", usd(-500), None, "r_e"),  # missing there
        Movement("ch_f", "payment", usd(1000), None, "p_f"),  # fee not booked yet: fine
    ]
    theirs = [
        Movement("ch_a", "payment", usd(999)),  # missing here
        Movement("ch_b", "payment", usd(3000), usd(146)),
        Movement("ch_c", "payment", usd(4000), usd(146)),
        Movement("ch_d", "payment", Money(4000, "eur"), None),
        Movement("ch_f", "payment", usd(1000), usd(59)),
    ]
    found = compare(ours, theirs)
    assert [(m.kind, m.ref) for m in found] == [
        (MismatchKind.MISSING_HERE, "ch_a"),
        (MismatchKind.AMOUNT_DIFFERS, "ch_b"),
        (MismatchKind.FEE_DIFFERS, "ch_c"),
        (MismatchKind.CURRENCY_DIFFERS, "ch_d"),
        (MismatchKind.MISSING_THERE, "re_e"),
    ]
    assert found[0].our_id is None
    assert found[4].our_id == "r_e"
    assert (found[2].ours, found[2].theirs) == (usd(100), usd(146))
    assert compare(reversed(ours), reversed(theirs)) == found  # the same answer, any order


def test_a_movement_travels_as_a_row_and_back() -> None:
    with_fee = Movement("ch_1", "payment", usd(4000), usd(146), our_id="pay_1")
    without = Movement("re_1", "refund", usd(-1000))
    assert row_of(with_fee) == ("ch_1", "payment", "usd", 4000, 146)
    assert row_of(without) == ("re_1", "refund", "usd", -1000, None)
    assert movement_of(row_of(with_fee), our_id="pay_1") == with_fee
    assert movement_of(row_of(without)) == without
