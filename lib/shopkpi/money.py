"""The one way a money amount is shown: always with its currency, in that currency's minor units.

A label and its number come from one call (`money(amount, currency)`), so a figure in USD cannot be
printed under a THB label. Import-light: the dashboard pages use it.
"""

from __future__ import annotations

import math

# Currencies written without minor units in TikTok Shop's exports and in everyday use (data/markets.yaml
# `decimal: none`; ISO 4217 gives IDR two, but no seller or bank shows them).
WHOLE_UNITS = frozenset({"JPY", "VND", "IDR", "KRW", "CLP"})


def _missing(amount) -> bool:
    return amount is None or (isinstance(amount, float) and math.isnan(amount))


def decimals(currency: str) -> int:
    return 0 if currency in WHOLE_UNITS else 2


def money(amount, currency: str, whole: bool = False, signed: bool = False) -> str:
    """"USD 1,234.56" ("USD 1,235" when `whole`); "–" when there is no amount; a sign first when `signed`."""
    if not currency:
        raise ValueError("money() needs the amount's currency")
    if _missing(amount):
        return "–"
    places = 0 if whole else decimals(currency)
    amount = float(amount) + 0.0  # + 0.0: no "-0.00"
    sign = ("+" if amount >= 0 else "−") if signed else ("-" if amount < 0 else "")
    return f"{sign}{currency} {abs(amount):,.{places}f}"


def per_day(amount, currency: str, language: str) -> str:
    """"USD 1,235/day" or "USD 1,235/天": a daily pace with its unit."""
    return money(amount, currency, whole=True) + ("/天" if language == "zh" else "/day")
