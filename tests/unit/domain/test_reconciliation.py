"""Reconciliation's comparison: every difference named, in a stable order."""

from __future__ import annotations

from eventpay.domain import Money
from eventpay.domain.reconciliation import (
    ORGANIZER_KINDS,
    MismatchKind,
    Movement,
    compare,
    linked,
    movement_of,
    return_ref,
    row_of,
)


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


def test_money_paid_out_is_compared_like_the_rest_and_a_return_is_keyed_by_its_payout() -> None:
    assert return_ref("PAYOUT-TXN-1") == "PAYOUT-TXN-1:return"
    ours = [
        Movement("tr_1", "transfer", usd(-3800), None, "t1"),
        Movement("PAYOUT-TXN-1", "payout", usd(-2000), usd(25), "po1"),
        Movement(return_ref("PAYOUT-TXN-1"), "payout_return", usd(2000), None, "po1"),
    ]
    theirs = [
        Movement("tr_1", "transfer", usd(-3800), related="ch_1"),
        Movement("PAYOUT-TXN-1", "payout", usd(-2000), usd(30)),
        Movement(return_ref("PAYOUT-TXN-1"), "payout_return", usd(2000), related="RET-1"),
        Movement("trr_9", "transfer_reversal", usd(500), related="re_9"),
    ]
    found = compare(ours, theirs)
    assert [(m.kind, m.ref, m.our_id) for m in found] == [
        (MismatchKind.FEE_DIFFERS, "PAYOUT-TXN-1", "po1"),
        (MismatchKind.MISSING_HERE, "trr_9", None),
    ]
    assert found[1].detail == (
        "the provider lists a transfer_reversal of 5.00 USD we have no record of"
    )
    assert {"transfer", "transfer_reversal", "payout", "payout_return"} == ORGANIZER_KINDS


def test_movements_we_hold_no_id_of_are_keyed_by_the_provider_movement_naming_them() -> None:
    ours = [
        ("ch_1", Movement("ch_1", "transfer", usd(-4500), None, "p1")),
        ("re_1", Movement("re_1", "transfer_reversal", usd(1000), None, "r1")),
        ("ch_2", Movement("ch_2", "transfer", usd(-3000), None, "p2")),  # Stripe made none
    ]
    theirs = [
        Movement("tr_1", "transfer", usd(-4500), related="ch_1"),
        Movement("trr_1", "transfer_reversal", usd(900), related="re_1"),
        Movement("tr_9", "transfer", usd(-100)),  # names nothing
        Movement("trr_2", "transfer_reversal", usd(3000), related="ch_2"),  # another kind
    ]
    keyed = linked(ours, theirs)
    assert [(m.ref, m.our_id) for m in keyed] == [
        ("tr_1", "p1"),
        ("trr_1", "r1"),
        ("ch_2:transfer", "p2"),
    ]
    assert [(m.kind, m.ref) for m in compare(keyed, theirs)] == [
        (MismatchKind.MISSING_THERE, "ch_2:transfer"),
        (MismatchKind.MISSING_HERE, "tr_9"),
        (MismatchKind.AMOUNT_DIFFERS, "trr_1"),
        (MismatchKind.MISSING_HERE, "trr_2"),
    ]
