"""Finance sync: statements, their transactions and payments, landed as income-statement workbooks.

Each statement closed in the sync window becomes one workbook shaped like Seller Center's income statement
(Reports with the statement total, Order details with one row per transaction, Reserve Details and
Withdrawal records from its payment), so the settlement importer, the payout reconciliation and the profit
notebook read API and downloaded statements alike. Endpoints (shared/reference §2.4): statements 202309
(`statement_time_ge/lt`, paged), statement transactions 202501, payments 202605.

The breakdown field names follow the api-spec's fee taxonomy (§5.2) where it names them; a fee line we do
not map is written under its API name, so the importer lists it as an unplaced money column instead of it
vanishing.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path

from openpyxl import Workbook

from shopkpi import paths
from shopkpi.api.client import PartnerClient

STATEMENTS = "/finance/202309/statements"
TRANSACTIONS = "/finance/202501/statements/{id}/statement_transactions"
PAYMENTS = "/finance/202605/payments"
# API field -> the income statement's English header (the settlement importer's aliases know these).
TOP = {"settlement_amount": "Total settlement amount", "revenue_amount": "Total revenue", "fee_tax_amount": "Total fees"}
REVENUE = {"subtotal_before_discount_amount": "Subtotal before discounts", "seller_discount_amount": "Seller discounts",
           "subtotal_after_seller_discount_amount": "Subtotal after seller discounts",
           "refund_subtotal_after_seller_discount_amount": "Refund subtotal after seller discounts",
           "platform_discount_amount": "Platform discounts", "customer_payment_amount": "Customer payment",
           "customer_refund_amount": "Customer refund"}
FEES = {"platform_commission_amount": "TikTok Shop commission fee", "transaction_fee_amount": "Transaction fee",
        "affiliate_commission_amount": "Affiliate commission", "referral_fee_amount": "Referral fee",
        "refund_administration_fee_amount": "Refund administration fee", "gmv_max_ad_fee_amount": "GMV Max ad fee",
        "gmv_max_coupon_fee": "GMV Max coupon fee", "affiliate_partner_commission_amount": "Affiliate partner commission",
        "affiliate_ads_commission_amount": "Affiliate Shop Ads commission", "sfp_service_fee_amount": "SFP service fee",
        "fee_per_item_sold_amount": "Fee per item sold", "dynamic_commission_amount": "Dynamic commission"}
SHIPPING = {"customer_paid_shipping_fee_amount": "Customer shipping fee",
            "platform_shipping_fee_discount_amount": "Platform shipping fee discount",
            "actual_shipping_fee_amount": "Actual shipping fee",
            "refunded_customer_shipping_fee_amount": "Refunded customer shipping fee"}
IDS = ["Statement date", "Statement ID", "Payment ID", "Type", "Order/adjustment ID", "Related order ID", "SKU ID", "Quantity",
       "Currency", "Order created time", "Order settled time"]
TYPES = {"ORDER": "Order", "ADJUSTMENT": "Adjustment"}


def _utc(ts) -> str:
    return "" if ts in (None, "") else dt.datetime.fromtimestamp(int(ts), dt.timezone.utc).strftime("%Y/%m/%d %H:%M:%S")


def transaction_row(t: dict, statement: dict, columns: list[str]) -> list:
    cells = {"Statement date": _utc(statement["statement_time"])[:10], "Statement ID": statement["id"],
             "Payment ID": statement.get("payment_id", ""), "Type": TYPES.get(t.get("type", ""), t.get("type", "")),
             "Order/adjustment ID": t.get("order_id") or t.get("adjustment_id") or t["id"],
             "Related order ID": t.get("order_id", ""), "SKU ID": t.get("sku_id", ""), "Quantity": t.get("quantity", ""),
             "Currency": t.get("currency") or statement.get("currency", ""), "Order created time": _utc(t.get("order_create_time")),
             "Order settled time": _utc(t.get("settled_time") or statement["statement_time"])}
    cells |= {TOP[k]: t[k] for k in TOP if k in t}
    for part, names in (("revenue_breakdown", REVENUE), ("shipping_cost_breakdown", SHIPPING)):
        cells |= {names.get(k, k): v for k, v in (t.get(part) or {}).items()}
    fee = (t.get("fee_tax_breakdown") or {}).get("fee") or {}
    tax = (t.get("fee_tax_breakdown") or {}).get("tax") or {}
    cells |= {FEES.get(k, k): v for k, v in (fee | tax).items()}
    for name in cells:
        if name not in columns:
            columns.append(name)
    return [cells.get(c, "") for c in columns]


def land_statement(folder: Path, statement: dict, transactions: list[dict], payment: dict | None) -> Path:
    """One income-statement workbook: Reports, Order details, Reserve Details, Withdrawal records."""
    columns = list(IDS)
    rows = [transaction_row(t, statement, columns) for t in transactions]
    rows = [r + [""] * (len(columns) - len(r)) for r in rows]
    closed = dt.datetime.fromtimestamp(int(statement["statement_time"]), dt.timezone.utc)
    reports = [["Statement", "Income statement (Open API)"],
               ["Time period", f"{closed - dt.timedelta(days=6):%Y/%m/%d} - {closed:%Y/%m/%d}"], ["Time zone", "UTC"],
               ["Currency", statement.get("currency", "")], ["Total settlement amount", statement.get("settlement_amount", "")]]
    book = Workbook(write_only=True)
    for title, sheet in (("Reports", reports), ("Order details", [columns] + rows)):
        ws = book.create_sheet(title)
        for row in sheet:
            ws.append(row)
    if payment:
        reserve = book.create_sheet("Reserve Details")
        reserve.append(["Reserve ID", "Statement ID", "Reserve amount"])
        reserve.append([f"R{payment['id']}", statement["id"], (payment.get("reserve_amount") or {}).get("value", "")])
        withdrawal = book.create_sheet("Withdrawal records")
        withdrawal.append(["Withdrawal ID", "Statement ID", "Withdrawal amount", "Status"])
        withdrawal.append([payment["id"], statement["id"], (payment.get("amount") or {}).get("value", ""), payment.get("status", "")])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"statement_{statement['id']}.xlsx"
    tmp = path.with_name(path.name + ".part")
    book.save(tmp)
    os.replace(tmp, path)
    return path


def _all_pages(api: PartnerClient, path: str, cipher: str, shop: str, key: str, query: dict) -> list[dict]:
    out, token = [], ""
    while True:
        data = api.request("GET", path, shop_cipher=cipher, shop=shop,
                           query={**query, "page_size": api.options.page_size, "page_token": token})
        out += data.get(key) or []
        token = data.get("next_page_token") or ""
        if not token:
            return out


def sync_finance(api: PartnerClient, client: str, market: str, cipher: str, cursor, since: int | None, report,
                 say: Callable[[str], None]) -> None:
    """Statements closed since the last sync (cursor `finance`), one workbook each, saved after each statement."""
    state = cursor.feed(market, "finance")
    if "window" not in state:
        done = state.get("done_lt")
        state["window"] = {"ge": since if since is not None else (done or 0), "lt": int(api.clock()), "landed": []}
        cursor.save()
    window = state["window"]
    span = {"statement_time_ge": window["ge"], "statement_time_lt": window["lt"]}
    statements = _all_pages(api, STATEMENTS, cipher, market, "statements", {**span, "sort_field": "statement_time"})
    payments = {p["id"]: p for p in _all_pages(api, PAYMENTS, cipher, market, "payments",
                                               {"create_time_ge": window["ge"], "create_time_lt": window["lt"]})}
    folder = paths.api_landing_dir(client) / market / "finance"
    for statement in statements:
        if statement["id"] in window["landed"]:
            continue  # landed before a crash
        transactions = _all_pages(api, TRANSACTIONS.format(id=statement["id"]), cipher, market, "transactions", {})
        report.files.append(land_statement(folder, statement, transactions, payments.get(statement.get("payment_id", ""))))
        report.statements += 1
        window["landed"].append(statement["id"])
        cursor.save()
    say(f"  {market} finance: {len(statements)} statement(s)")
    state["done_lt"] = window["lt"]
    del state["window"]
    cursor.save()
