"""Incremental sync of orders and returns (and, in api.finance, statements) from the Open API into the store.

Each shop is read in passes over an update-time window [ge, lt) with lt fixed when the pass starts, so an
order updated during the pass leaves the window (and comes in the next pass) instead of shifting pages.
An offset-style page token can still skip an order when one earlier in the list leaves the window; the
pass therefore checks the distinct orders it received against the `total_count` of its first page and
reads the window again when some are missing. The cursor (window, next page token, pages done) is saved
each time a batch of pages is landed, so a crash re-reads at most that batch.

Every batch of pages is landed as an Orders-export-shaped CSV under data/<client>/raw/api/ (API money and times, no
buyer names or addresses: the buyer id is hashed by the importer like a username) and ingested by the
same importer and merge as a downloaded export: same cleaning, dedup (the newest state of an order wins
across API and export files), row accounting and PII rules; `shopkpi ingest` rebuilds the store from them.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from shopkpi import paths
from shopkpi.artifacts import write_text_atomic
from shopkpi.api.client import PartnerClient
from shopkpi.ingest.rows import market_reference
from shopkpi.params import ClientParams

log = logging.getLogger("shopkpi.api")

ORDERS_SEARCH = "/order/202309/orders/search"
ORDER_DETAILS = "/order/202507/orders"
RETURNS_SEARCH = "/return_refund/202309/returns/search"
DETAIL_BATCH = 50  # ids per Get Order Detail call [reference §2.4]
LAG = 60  # seconds: the window ends this long before "now", so late-indexed updates are not skipped
OVERLAP = 600  # seconds re-read at the start of each window (duplicates are harmless: the newest state wins)
MAX_REREADS = 3
PAGES_PER_FILE = 20  # pages landed (and the cursor saved) together: fewer, larger files for the importer
# API order status -> the Orders export's English status (the importer's status groups know these).
STATUS = {"UNPAID": "Unpaid", "ON_HOLD": "To ship", "AWAITING_SHIPMENT": "To ship", "PARTIALLY_SHIPPING": "To ship",
          "AWAITING_COLLECTION": "To ship", "IN_TRANSIT": "In transit", "DELIVERED": "Delivered",
          "COMPLETED": "Completed", "CANCELLED": "Canceled"}
HEADER = ["Order ID", "Order Status", "Order Substatus", "SKU ID", "Seller SKU", "Product Name", "Variation", "Quantity",
          "Sku Quantity of return", "SKU Unit Original Price", "SKU Subtotal Before Discount", "SKU Platform Discount",
          "SKU Seller Discount", "SKU Subtotal After Discount", "Shipping Fee After Discount", "Original Shipping Fee",
          "Shipping Fee Seller Discount", "Shipping Fee Platform Discount", "Taxes", "Small Order Fee", "Order Amount",
          "Order Refund Amount", "Created Time", "Paid Time", "RTS Time", "Shipped Time", "Delivered Time",
          "Cancelled Time", "Cancel Reason", "Shipping Provider Name", "Tracking ID", "Package ID", "Payment Method",
          "Product Category", "Seller Note", "Buyer Username", "Country"]


@dataclass
class SyncReport:
    client: str
    pages: int = 0
    orders: int = 0
    returns: int = 0
    statements: int = 0
    rereads: int = 0
    webhook_orders: int = 0
    files: list[Path] = field(default_factory=list)
    ingest: object = None

    def summary_lines(self) -> list[str]:
        lines = [f"{self.client}: {self.orders:,} order records, {self.returns:,} return records in {self.pages:,} pages and "
                 f"{self.statements:,} statement(s); {len(self.files)} file(s) landed under raw/api/"]
        if self.rereads:
            lines.append(f"  {self.rereads} window(s) read again: fewer orders arrived than the first page's total_count")
        if self.webhook_orders:
            lines.append(f"  {self.webhook_orders} order(s) queued by webhooks fetched by id")
        return lines


class Cursor:
    """The sync's position per shop and feed, saved atomically after every page."""

    def __init__(self, client: str):
        self.path = paths.api_state_dir(client) / "cursor.json"
        self.state = json.loads(self.path.read_text()) if self.path.exists() else {}

    def feed(self, shop: str, feed: str) -> dict:
        return self.state.setdefault(shop, {}).setdefault(feed, {})

    def save(self) -> None:
        write_text_atomic(self.path, json.dumps(self.state, indent=1, sort_keys=True))


def _money(value) -> str:
    return "" if value in (None, "") else str(value)


def _local(ts, zone: ZoneInfo) -> str:
    if ts in (None, "", 0):
        return ""
    return dt.datetime.fromtimestamp(int(ts), dt.timezone.utc).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def export_rows(order: dict, returns: dict, market: str, zone: ZoneInfo, country: str) -> list[list[str]]:
    """One API order -> Orders export rows, one per SKU (the API lists one line item per unit)."""
    payment = order.get("payment") or {}
    refund = returns.get(order["id"], {})
    by_sku: dict[str, dict] = {}
    for item in order.get("line_items") or []:
        line = by_sku.setdefault(item["sku_id"], {"item": item, "units": 0, "before": 0.0, "platform": 0.0, "seller": 0.0, "after": 0.0})
        line["units"] += 1
        line["before"] += float(item.get("original_price") or 0)
        line["platform"] += float(item.get("platform_discount") or 0)
        line["seller"] += float(item.get("seller_discount") or 0)
        line["after"] += float(item.get("sale_price") or 0)
    status = STATUS.get(order.get("status", ""), order.get("status", ""))
    substatus = "Awaiting collection" if order.get("status") == "AWAITING_COLLECTION" else status
    note = order.get("seller_note") or ""
    if order.get("is_sample_order"):
        note = (note + " " if note else "") + "sample order (API is_sample_order)"
    if order.get("is_replacement_order"):
        note = (note + " " if note else "") + "replacement order (API is_replacement_order)"
    rows = []
    for sku_id, line in by_sku.items():
        item = line["item"]
        unit = float(item.get("original_price") or 0)
        rows.append([
            order["id"], status, substatus, sku_id, item.get("seller_sku", ""), item.get("product_name", ""),
            item.get("sku_name", ""), str(line["units"]), str(refund.get("units", {}).get(sku_id, 0)), f"{unit:.2f}",
            f"{line['before']:.2f}", f"{line['platform']:.2f}", f"{line['seller']:.2f}", f"{line['after']:.2f}",
            _money(payment.get("shipping_fee")), _money(payment.get("original_shipping_fee")),
            _money(payment.get("shipping_fee_seller_discount")), _money(payment.get("shipping_fee_platform_discount")),
            _money(payment.get("tax")), _money(payment.get("small_order_fee")), _money(payment.get("total_amount")),
            f"{refund.get('amount', 0.0):.2f}",
            _local(order.get("create_time"), zone), _local(order.get("paid_time"), zone), _local(order.get("rts_time"), zone),
            _local(order.get("collection_time"), zone), _local(order.get("delivery_time"), zone),
            _local(order.get("cancel_time"), zone), order.get("cancel_reason", ""), item.get("shipping_provider_name", ""),
            item.get("tracking_number", ""), item.get("package_id", ""), order.get("payment_method_name", ""),
            item.get("product_category", ""), note, order.get("user_id", ""), country,
        ])
    return rows


def _land(folder: Path, name: str, rows: list[list[str]]) -> Path | None:
    if not rows:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows)
    os.replace(tmp, path)
    return path


class ShopSync:
    def __init__(self, api: PartnerClient, params: ClientParams, market: str, shop_cipher: str, cursor: Cursor,
                 report: SyncReport, progress: Callable[[str], None]):
        self.api, self.params, self.market, self.cipher = api, params, market, shop_cipher
        self.cursor, self.report, self.say = cursor, report, progress
        self.zone = ZoneInfo(params.market(market).timezone)
        self.country = market_reference()[market]["country_names"][0]
        self.folder = paths.api_landing_dir(params.client) / market
        self.returns_path = paths.api_state_dir(params.client) / f"returns_{market}.json"
        self.returns = json.loads(self.returns_path.read_text()) if self.returns_path.exists() else {}
        self.pending: list[list[str]] = []
        self.pending_first = 0

    def _pages(self, feed: str, path: str, key: str, since: int | None, handle: Callable[[list[dict], dict], None],
               flush: Callable[[dict], None] | None = None) -> None:
        """Read the feed's window page by page; `flush` lands what `handle` gathered, then the cursor is saved
        (a crash before that re-reads those pages)."""
        state = self.cursor.feed(self.market, feed)
        if "window" not in state:
            done = state.get("done_lt")
            ge = since if since is not None else (done - OVERLAP if done else 0)
            state["window"] = {"ge": ge, "lt": int(self.api.clock()) - LAG, "page_token": "", "pages": 0, "total": None,
                               "reads": 1}
            self.cursor.save()
        window = state["window"]
        seen_file = paths.api_state_dir(self.params.client) / f"seen_{self.market}_{feed}.txt"
        if window["pages"] == 0 and window["page_token"] == "":
            seen_file.unlink(missing_ok=True)
        while True:
            data = self.api.request("POST", path, shop_cipher=self.cipher, shop=self.market,
                                    query={"page_size": self.api.options.page_size, "page_token": window["page_token"],
                                           "sort_field": "update_time", "sort_order": "ASC"},
                                    body={"update_time_ge": window["ge"], "update_time_lt": window["lt"]})
            records = data.get(key) or []
            if window["total"] is None:
                window["total"] = int(data.get("total_count") or 0)
            handle(records, window)
            with seen_file.open("a") as fh:
                fh.writelines(f"{r.get('id') or r.get('return_id')}\n" for r in records)
            window["pages"] += 1
            self.report.pages += 1
            window["page_token"] = data.get("next_page_token") or ""
            if flush and window["page_token"] and window["pages"] % PAGES_PER_FILE:
                continue
            if flush:
                flush(window)
            self.cursor.save()
            if window["pages"] % 20 == 0:
                self.say(f"  {self.market} {feed}: {window['pages']} pages")
            if window["page_token"]:
                continue
            seen = len(set(seen_file.read_text().split())) if seen_file.exists() else 0
            if seen < window["total"] and window["reads"] < MAX_REREADS:
                # An order left the window between pages and shifted the rest: read the (now stable) window again.
                log.warning("client %s, shop %s: %s window gave %d of %d records; reading it again",
                            self.params.client, self.market, feed, seen, window["total"])
                self.report.rereads += 1
                window.update(page_token="", total=None, reads=window["reads"] + 1)
                self.cursor.save()
                continue
            state["done_lt"] = window["lt"]
            del state["window"]
            self.cursor.save()
            seen_file.unlink(missing_ok=True)
            return

    def _returns_page(self, records: list[dict], window: dict) -> None:
        for r in records:
            entry = self.returns.setdefault(r["order_id"], {"returns": {}})
            entry["returns"][r["return_id"]] = {
                "status": r.get("return_status", ""), "amount": float((r.get("refund_amount") or {}).get("refund_total") or 0),
                "units": [i["sku_id"] for i in r.get("return_line_items") or []]}
            # A rejected or withdrawn request refunds nothing (status names from public clients [unconfirmed]).
            if r.get("return_status") in ("RETURN_OR_REFUND_REQUEST_REJECT", "REQUEST_CANCELLED"):
                entry["returns"].pop(r["return_id"])
        self.report.returns += len(records)
        write_text_atomic(self.returns_path, json.dumps(self.returns))

    def _refunds(self) -> dict:
        out = {}
        for order_id, entry in self.returns.items():
            units: dict[str, int] = {}
            for r in entry["returns"].values():
                for sku in r["units"]:
                    units[sku] = units.get(sku, 0) + 1
            out[order_id] = {"amount": sum(r["amount"] for r in entry["returns"].values()), "units": units}
        return out

    def _orders_page(self, records: list[dict], window: dict) -> None:
        refunds = self._refunds()
        if not self.pending:
            self.pending_first = window["pages"]
        self.pending += [row for order in records for row in export_rows(order, refunds, self.market, self.zone, self.country)]
        self.report.orders += len(records)

    def _land_orders(self, window: dict) -> None:
        # Named by window, read and first page, so the newest state sorts last (the merge's final tie-break).
        name = f"orders_{window['ge']}_{window['lt']}_r{window['reads']}_p{self.pending_first:05d}.csv"
        if path := _land(self.folder, name, self.pending):
            self.report.files.append(path)
        self.pending = []

    def run(self, since: int | None) -> None:
        self.say(f"{self.params.client} {self.market}: returns")
        self._pages("returns", RETURNS_SEARCH, "return_orders", since, self._returns_page)
        self.say(f"{self.params.client} {self.market}: orders")
        self._pages("orders", ORDERS_SEARCH, "orders", since, self._orders_page, self._land_orders)
        from shopkpi.api.finance import sync_finance

        sync_finance(self.api, self.params.client, self.market, self.cipher, self.cursor, since, self.report, self.say)

    def fetch_ids(self, ids: list[str]) -> None:
        """Orders named by webhooks, by id (their returns, then Get Order Detail; 50 at a time)."""
        for start in range(0, len(ids), DETAIL_BATCH):
            batch = ids[start:start + DETAIL_BATCH]
            found = self.api.request("POST", RETURNS_SEARCH, shop_cipher=self.cipher, shop=self.market,
                                     query={"page_size": 100}, body={"order_ids": batch})  # ≤ 50 ids: one page
            self._returns_page(found.get("return_orders") or [], {})
            refunds = self._refunds()
            data = self.api.request("GET", ORDER_DETAILS, shop_cipher=self.cipher, shop=self.market, query={"ids": ",".join(batch)})
            orders = data.get("orders") or []
            rows = [row for order in orders for row in export_rows(order, refunds, self.market, self.zone, self.country)]
            if path := _land(self.folder, f"webhook_orders_{int(time.time() * 1000)}_{start:05d}.csv", rows):
                self.report.files.append(path)
            self.report.webhook_orders += len(orders)


def sync(params: ClientParams, api: PartnerClient, *, since: dt.date | None = None, ingest_after: bool = True,
         progress: Callable[[str], None] | None = None) -> SyncReport:
    """Sync every authorised shop of the client, then ingest what landed (the store's one commit)."""
    from shopkpi.api.webhooks import WebhookQueue
    from shopkpi.ingest.pipeline import ingest

    if params.api is None or not params.api.shops:
        from shopkpi.errors import ShopkpiError

        raise ShopkpiError(f"client {params.client}: params has no `api.shops` (market and shop_cipher of each authorised shop)")
    say = progress or (lambda _m: None)
    report = SyncReport(params.client)
    cursor = Cursor(params.client)
    since_ts = int(dt.datetime.combine(since, dt.time(), dt.timezone.utc).timestamp()) if since else None
    queue = WebhookQueue(params.client)
    for shop in params.api.shops:
        runner = ShopSync(api, params, shop.market, shop.shop_cipher, cursor, report, say)
        runner.run(since_ts)
        shop_key = shop.shop_id or ("*" if len(params.api.shops) == 1 else shop.market)
        queued = queue.pending(shop_key)
        if queued:
            runner.fetch_ids(queued)
            queue.done(shop_key, queued)
    landed = paths.api_landing_dir(params.client)
    if ingest_after and landed.exists():
        report.ingest = ingest(params.client, params, [landed], progress=say)
    return report
