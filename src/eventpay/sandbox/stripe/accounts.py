"""Connect accounts and account links: the API operations and the account state changes.

`POST /v1/accounts` creates an Express account (the only type the sandbox offers), `GET
/v1/accounts[/{id}]` reads them, `POST /v1/account_links` gives a single-use onboarding URL that
expires after five minutes, pointing at the sandbox's onboarding page (onboarding.py). Finishing
onboarding, or the test control `POST /_sandbox/accounts/{id}/state`, changes the account through
`change_state`, which emits `account.updated` with the old values in `previous_attributes`.
Operations run with the store's lock held by the gateway.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from . import account_objects, currencies, objects
from .errors import ParameterError
from .forms import Params
from .gateway import Call
from .objects import JSON
from .resources import expand, paginate
from .store import AccountLink, Origin, Store

Result = tuple[int, JSON]

LINK_TTL_S = 300
CAPABILITIES = ("card_payments", "transfers")
_CREATE = (
    "type",
    "country",
    "email",
    "business_type",
    "business_profile",
    "capabilities",
    "default_currency",
    "metadata",
    "controller",
    "expand",
)
_PROFILE = ("mcc", "name", "product_description", "support_email", "url")
_BUSINESS_TYPES = ("company", "government_entity", "individual", "non_profit")
_DEFAULT_CURRENCY = {"US": "usd", "GB": "gbp", "CA": "cad", "AU": "aud", "JP": "jpy"}


def _capabilities(params: Params) -> list[str]:
    requested = params.mapping("capabilities", allowed=CAPABILITIES) or {}
    for name, value in requested.items():
        if not isinstance(value, dict) or set(value) - {"requested"}:
            raise ParameterError(f"Invalid capabilities[{name}]", param=f"capabilities[{name}]")
    # An Express account needs both to take destination charges; the sandbox always has them.
    return list(CAPABILITIES)


def create(store: Store, call: Call) -> Result:
    params = call.params
    params.only(_CREATE)
    kind = params.string("type") or "express"
    if kind != "express":
        raise ParameterError(
            "The Stripe sandbox offers Express accounts only (type=express).", param="type"
        )
    country = (params.string("country") or "US").upper()
    default = params.string("default_currency")
    currency = currencies.check_currency(default) if default else None
    profile = params.mapping("business_profile", allowed=_PROFILE) or {}
    params.mapping("controller")
    account = account_objects.account(
        acct_id=objects.new_id("acct_", 16),
        created=int(time.time()),
        country=country,
        email=params.string("email") or None,
        business_type=params.string("business_type", choices=_BUSINESS_TYPES),
        business_profile={k: str(v) for k, v in profile.items()},
        default_currency=currency or _DEFAULT_CURRENCY.get(country, "eur"),
        capabilities=_capabilities(params),
        metadata=params.metadata() or {},
    )
    store.state.accounts[account["id"]] = account
    return 200, expand(store, account, params.strings("expand"))


def retrieve(store: Store, call: Call) -> Result:
    call.params.only(["expand"])
    return 200, expand(store, store.account(call.path("id")), call.params.strings("expand"))


def list_all(store: Store, call: Call) -> Result:
    params = call.params
    params.only(["limit", "starting_after", "ending_before", "expand"])
    accounts = list(store.state.accounts.values())[::-1]
    page = paginate(accounts, params, url="/v1/accounts", kind="account")
    return 200, expand(store, page, params.strings("expand"))


def onboarding_url(base_url: str, token: str) -> str:
    return f"{base_url}/sandbox/connect/onboarding/{token}"


def create_link(store: Store, call: Call) -> Result:
    params = call.params
    params.only(["account", "refresh_url", "return_url", "type", "collect", "expand"])
    acct_id = str(params.string("account", required=True))
    refresh_url = str(params.string("refresh_url", required=True))
    return_url = str(params.string("return_url", required=True))
    params.string("type", required=True, choices=("account_onboarding", "account_update"))
    params.string("collect", choices=("currently_due", "eventually_due"))
    store.account(acct_id, param="account")
    created = int(time.time())
    token = objects.new_id("", 32)
    store.state.account_links[token] = AccountLink(
        account=acct_id,
        refresh_url=refresh_url,
        return_url=return_url,
        expires_at=created + LINK_TTL_S,
    )
    link = account_objects.account_link(
        created=created,
        expires_at=created + LINK_TTL_S,
        url=onboarding_url(call.base_url, token),
    )
    return 200, link


def change_state(
    store: Store,
    account: JSON,
    *,
    charges_enabled: bool,
    payouts_enabled: bool,
    currently_due: list[str],
    origin: Origin,
) -> JSON:
    """Set what onboarding decides and emit `account.updated` if anything changed."""
    fields = account_objects.state_fields(
        charges_enabled=charges_enabled,
        payouts_enabled=payouts_enabled,
        due=currently_due,
        details_submitted=bool(account["details_submitted"]) or not currently_due,
        capabilities=list(account["capabilities"]),
    )
    if payouts_enabled and not account["external_accounts"]["data"]:
        bank: Any = account_objects.bank_account(
            ba_id=objects.new_id("ba_"),
            acct_id=str(account["id"]),
            country=str(account["country"]),
            currency=str(account["default_currency"]),
        )
        fields["external_accounts"] = {**account["external_accounts"], "data": [bank]}
    previous = {
        name: copy.deepcopy(account[name]) for name in fields if account[name] != fields[name]
    }
    account.update(fields)
    if previous:
        store.emit("account.updated", account, origin, previous=previous)
    return account


def complete_onboarding(store: Store, account: JSON) -> JSON:
    """The organizer submitted everything: charges and payouts enabled, nothing due."""
    return change_state(
        store,
        account,
        charges_enabled=True,
        payouts_enabled=True,
        currently_due=[],
        origin=Origin(),
    )
