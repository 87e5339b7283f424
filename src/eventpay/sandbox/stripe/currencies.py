"""Stripe's currency rules as the sandbox enforces them: which codes, how many decimals, steps.

Stripe's currencies page (docs.stripe.com/currencies): every amount is an integer of the
currency's smallest unit *as Stripe counts it*, which is not always ISO 4217's:
- zero-decimal currencies (JPY, KRW, ...) are sent as whole units;
- special cases: ISK and UGX became effectively zero-decimal but, for backwards compatibility,
  stay two-decimal in the API with the decimals always 00 (5 ISK is 500); another value gets
  `invalid_charge_amount_no_decimal_compatible`. HUF and TWD are two-decimal for charges (they
  are zero-decimal only for payouts, which the sandbox does not have);
- three-decimal currencies (BHD, JOD, KWD, OMR, TND) must end in 0 ("round to the nearest ten");
- at most eight digits (99999999) in any currency, `amount_too_large` above.

Stripe documents no error code for a three-decimal amount not ending in 0; the sandbox answers it
with the same type, status and param as the other amount errors and no code. Formatting for
people (`shown`) follows Stripe's messages: `$45.00`, `4500 JPY`, `1.230 KWD`.
"""

from __future__ import annotations

from .errors import ParameterError


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Stripe's presentment currencies (docs.stripe.com/currencies, "Supported presentment
# currencies"), lower case as the API wants them.
SUPPORTED = _codes(
    "usd aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bhd bif bmd bnd bob brl bsd"
    " bwp byn bzd cad cdf chf clp cny cop crc cve czk djf dkk dop dzd egp etb eur fjd fkp gbp"
    " gel gip gmd gnf gtq gyd hkd hnl htg huf idr ils inr isk jmd jod jpy kes kgs khr kmf krw"
    " kwd kyd kzt lak lbp lkr lrd lsl mad mdl mga mkd mmk mnt mop mur mvr mwk mxn myr mzn nad"
    " ngn nio nok npr nzd omr pab pen pgk php pkr pln pyg qar ron rsd rub rwf sar sbd scr sek"
    " sgd shp sle sos srd std szl thb tjs tnd top try ttd twd tzs uah ugx uyu uzs vnd vuv wst"
    " xaf xcd xof xpf yer zar zmw"
)
ZERO_DECIMAL = _codes("bif clp djf gnf jpy kmf krw mga pyg rwf vnd vuv xaf xof xpf")
THREE_DECIMAL = _codes("bhd jod kwd omr tnd")
# Effectively zero-decimal, written with two decimals that must be 00.
WHOLE_IN_TWO_DECIMALS = frozenset({"isk", "ugx"})
MAX_AMOUNT = 99_999_999


def decimals(currency: str) -> int:
    """Digits after the point in Stripe's API amounts of `currency`."""
    if currency in ZERO_DECIMAL:
        return 0
    if currency in THREE_DECIMAL:
        return 3
    return 2


def shown(amount: int, currency: str) -> str:
    """An amount as Stripe writes it for people: `$45.00`, `4500 JPY`, `1.230 KWD`."""
    places = decimals(currency)
    sign = "-" if amount < 0 else ""
    units, fraction = divmod(abs(amount), 10**places)
    major = f"{units:,}" + (f".{fraction:0{places}d}" if places else "")
    return f"{sign}${major}" if currency == "usd" else f"{sign}{major} {currency.upper()}"


def check_currency(value: str) -> str:
    """`value` lower-cased if Stripe takes it, else Stripe's `Invalid currency` error."""
    code = value.lower()
    if code not in SUPPORTED:
        raise ParameterError(
            f"Invalid currency: {code}. Stripe currently supports these currencies: "
            + ", ".join(sorted(SUPPORTED)),
            param="currency",
        )
    return code


def check_amount(amount: int, currency: str, *, param: str = "amount") -> None:
    """Refuse an amount Stripe cannot take in `currency`, with Stripe's error.

    A parameter error: Stripe keeps no idempotent result for it, so the same key may be retried
    with a corrected amount.
    """
    if amount > MAX_AMOUNT:
        raise ParameterError(
            f"Amount must be no more than {shown(MAX_AMOUNT, currency)}",
            code="amount_too_large",
            param=param,
        )
    if currency in WHOLE_IN_TWO_DECIMALS and amount % 100:
        raise ParameterError(
            f"Invalid amount. Currency {currency.upper()} has become effectively zero-decimal "
            "and charged amounts must be evenly divisible by 100. See "
            "https://stripe.com/docs/currencies#special-cases for more information.",
            code="invalid_charge_amount_no_decimal_compatible",
            param=param,
        )
    if currency in THREE_DECIMAL and amount % 10:
        raise ParameterError(
            f"Invalid amount. Amounts in {currency.upper()} must have 0 as their last digit "
            f"(round to the nearest ten; {shown(amount, currency)} cannot be charged). See "
            "https://stripe.com/docs/currencies#three-decimal for more information.",
            param=param,
        )
