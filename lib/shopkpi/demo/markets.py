"""Market constants for the demo client: one dict per market, nothing else."""

from __future__ import annotations

from typing import Any

BRAND: dict[str, Any] = {
    "name": "Luma Home",
    "description": "Fictional Chinese cross-border home & beauty brand (Shenzhen) selling on TikTok Shop",
    "legal_entity": "Shenzhen Luma Home Trading Co., Ltd. (fictional)",
}

MARKETS: dict[str, dict[str, Any]] = {
    "UK": {
        "code": "UK",
        "shop_name": "Luma Home UK",
        "official_account": "lumahome.uk",
        "currency": "GBP",
        "currency_symbol": "£",
        "minor_units": 100,
        "tz": "Europe/London",
        "country": "United Kingdom",
        "language": "en",
        "timestamp_format": "DD/MM/YYYY HH:MM:SS",
        "money_format_orders": "plain decimal with 2 places, e.g. 12.99",
        "money_format_analytics": "symbol with thousands separators, e.g. £1,205.33",
        "order_id_prefix": "57",
        "line_share": 0.55,
        "warehouse": "UK-3PL-Leeds",
        "fx_cny_per_unit": 9.1,
        "shipping_fee": 2.99,
        "free_shipping_threshold": 15.00,
        "small_order_fee": None,
        "small_order_threshold": None,
        "transit_days_mean": 1.8,
        "payment_methods": ["Card", "PayPal", "Apple Pay", "Google Pay", "Klarna"],
        "payment_method_weights": [0.52, 0.2, 0.16, 0.07, 0.05],
        "shipping_providers": ["Royal Mail", "Evri", "DPD", "Yodel"],
        "shipping_provider_weights": [0.45, 0.3, 0.15, 0.1],
    },
    "TH": {
        "code": "TH",
        "shop_name": "Luma Home TH",
        "official_account": "lumahome.th",
        "currency": "THB",
        "currency_symbol": "฿",
        "minor_units": 100,
        "tz": "Asia/Bangkok",
        "country": "Thailand",
        "language": "th",
        "timestamp_format": "DD/MM/YYYY HH:MM:SS",
        "money_format_orders": "currency code text with thousands separators, e.g. THB 1,299.00",
        "money_format_analytics": "symbol with thousands separators, e.g. ฿1,205.00",
        "order_id_prefix": "58",
        "line_share": 0.45,
        "warehouse": "TH-BKK-01",
        "fx_cny_per_unit": 0.2,
        "shipping_fee": 35.00,
        "free_shipping_threshold": 299.00,
        "small_order_fee": 10.00,
        "small_order_threshold": 100.00,
        "transit_days_mean": 2.4,
        "payment_methods": ["Cash on delivery", "TrueMoney Wallet", "Credit/debit card", "Mobile banking", "PromptPay QR"],
        "payment_method_weights": [0.38, 0.25, 0.17, 0.17, 0.03],
        "shipping_providers": ["Flash Express", "J&T Express", "Kerry Express", "Thailand Post"],
        "shipping_provider_weights": [0.4, 0.3, 0.2, 0.1],
    },
}

MARKET_CODES: tuple[str, ...] = ("UK", "TH")


def public_market_constants() -> dict[str, dict[str, Any]]:
    """Market constants as written to truth.json (plain JSON types)."""
    return {code: dict(MARKETS[code]) for code in MARKET_CODES}
