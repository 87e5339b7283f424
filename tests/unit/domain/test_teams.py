"""Team competitions: the terms an organizer may set, a team's name and roster, its lines."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventpay.domain import Money
from eventpay.domain.errors import DomainError
from eventpay.domain.orders import RegistrationStatus
from eventpay.domain.pricing import LineKind
from eventpay.domain.teams import (
    MAX_MEMBERS,
    MAX_TEAM_NAME,
    FeeMode,
    TeamRefused,
    TeamTerms,
    name_key,
    roster,
    team_name,
    team_name_stock_id,
    team_status,
    team_stock_id,
)


def terms(**overrides: Any) -> TeamTerms:
    values: dict[str, Any] = {
        "class_id": "spring-team",
        "fee_mode": FeeMode.TEAM,
        "fee": Money(12000, "usd"),
        "min_members": 2,
        "max_members": 4,
        "capacity": 10,
    }
    values.update(overrides)
    return TeamTerms(**values)


def test_stock_ids_are_per_event() -> None:
    assert team_stock_id("spring") == "team:spring"
    assert team_name_stock_id("spring") == "teamname:spring"


def test_terms_accept_a_string_fee_mode_and_no_capacity() -> None:
    made = terms(fee_mode="per_member", capacity=None)
    assert made.fee_mode is FeeMode.PER_MEMBER
    assert made.capacity is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"class_id": ""}, "class_id"),
        ({"fee_mode": "per_team"}, "fee_mode"),
        ({"fee": Money(-1, "usd")}, "fee"),
        ({"fee": Money(10**9 + 1, "usd")}, "fee"),
        ({"min_members": 0}, "min_members"),
        ({"min_members": True}, "min_members"),
        ({"max_members": MAX_MEMBERS + 1}, "max_members"),
        ({"min_members": 4, "max_members": 3}, "max_members"),
        ({"capacity": -1}, "capacity"),
        ({"capacity": "5"}, "capacity"),
    ],
)
def test_terms_that_could_never_be_honoured_are_refused_naming_the_field(
    overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(TeamRefused) as refused:
        terms(**overrides)
    assert isinstance(refused.value, DomainError)
    assert refused.value.code == "invalid_team_terms"
    assert refused.value.details["field"] == field


def test_a_team_fee_is_one_line_for_the_team() -> None:
    lines = terms().price("spring", "Spring Sound-Off", "Bass Heads", ("a", "b", "c"))
    assert [line.amount for line in lines] == [Money(12000, "usd")]
    (line,) = lines
    assert line.kind == LineKind.TEAM
    assert (line.event_id, line.class_id) == ("spring", "spring-team")
    assert "Bass Heads" in line.description
    assert "3 members" in line.description


def test_a_per_member_fee_is_one_line_per_member_naming_them() -> None:
    made = terms(fee_mode=FeeMode.PER_MEMBER, fee=Money(3000, "usd"))
    lines = made.price("spring", "Spring", "Bass Heads", ("cap", "m1", "m2"))
    assert [line.amount.amount for line in lines] == [3000, 3000, 3000]
    assert [line.description.rsplit(" ", 1)[1] for line in lines] == ["cap", "m1", "m2"]
    assert {line.class_id for line in lines} == {"spring-team"}


def test_team_names_are_collapsed_and_compared_case_folded() -> None:
    assert team_name("  Bass   Heads ") == "Bass Heads"
    assert name_key("Bass Heads") == name_key(" bass  HEADS ") == "bass heads"
    assert team_name("x" * MAX_TEAM_NAME) == "x" * MAX_TEAM_NAME


@pytest.mark.parametrize("raw", ["", "   ", "x" * (MAX_TEAM_NAME + 1)])
def test_an_empty_or_long_name_is_refused(raw: str) -> None:
    with pytest.raises(TeamRefused) as refused:
        team_name(raw)
    assert (refused.value.code, refused.value.details["field"]) == ("invalid_team", "name")


def test_the_captain_is_added_first_when_left_out() -> None:
    assert roster(captain="cap", members=["m1", "m2"], terms=terms()) == ("cap", "m1", "m2")


def test_the_captain_listed_among_members_is_moved_first_not_doubled() -> None:
    assert roster(captain="cap", members=["m1", "cap"], terms=terms()) == ("cap", "m1")


def test_a_member_listed_twice_is_refused() -> None:
    with pytest.raises(TeamRefused) as refused:
        roster(captain="cap", members=["m1", "m1"], terms=terms())
    assert refused.value.code == "duplicate_member"
    assert refused.value.details == {"field": "members", "member": "m1"}


@pytest.mark.parametrize("members", [[], ["a", "b", "c", "d"]])
def test_a_team_outside_the_sizes_is_refused_counting_the_captain(members: list[str]) -> None:
    with pytest.raises(TeamRefused) as refused:
        roster(captain="cap", members=members, terms=terms())
    assert refused.value.code == "invalid_team_size"
    assert refused.value.details["size"] == str(len(members) + 1)


@given(st.lists(st.sampled_from(["cap", "a", "b", "c", "d", "e"]), max_size=8))
def test_a_roster_has_the_captain_once_and_first_and_nobody_twice(members: list[str]) -> None:
    wide = terms(min_members=1, max_members=MAX_MEMBERS)
    if len(set(members)) < len(members):
        with pytest.raises(TeamRefused, match="listed twice"):
            roster(captain="cap", members=members, terms=wide)
        return
    team = roster(captain="cap", members=members, terms=wide)
    assert team[0] == "cap"
    assert len(set(team)) == len(team)
    assert set(team) == {"cap", *members}


C, P, X = RegistrationStatus.CONFIRMED, RegistrationStatus.PENDING, RegistrationStatus.CANCELLED


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [([C, C], C), ([X, X], X), ([C, P], P), ([P, P], P), ([C, X], P), ([], P)],
)
def test_a_team_is_confirmed_or_cancelled_only_as_a_whole(
    statuses: list[RegistrationStatus], expected: RegistrationStatus
) -> None:
    assert team_status(statuses) is expected
