"""A fake TikTok Shop Partner API: a real HTTP server on 127.0.0.1 for the sync tests.

Built from facts in shared/reference partner_api_fees_pages.md §2 (hosts' paths, 202309 signing, the
{code, message, request_id, data} envelope with failures on HTTP 200, page_token paging, absolute-timestamp
token expiries, webhook HMAC over app_key + body). The order and line fields follow the 202309 Order
model as public clients describe it (one line item per unit, money as decimal strings, Unix-second times);
nothing is copied from another project. Its data is the demo generator's truth/api_orders.parquet, the
same order book the demo's Orders exports are written from.
"""

from __future__ import annotations

import base64
import collections
import json
import secrets
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pandas as pd

from shopkpi.api import signing

SKEW = 300  # seconds of clock difference accepted [unconfirmed; reference §2.8 suggests ±300 s]


def _cents(value: int) -> str:
    return f"{value / 100:.2f}"


def _split(total: int, units: int) -> list[int]:
    """A line amount over its units, the remainder cents on the first ones (they sum back exactly)."""
    base, extra = divmod(int(total), units)
    return [base + (1 if i < extra else 0) for i in range(units)]


class Truth:
    """Orders and returns as the server holds them; `update()` changes an order now (its update_time moves)."""

    def __init__(self, lines: pd.DataFrame, shop_market: dict[str, str]):
        self.lock = threading.Lock()
        self.market_of_cipher = shop_market
        self.orders: dict[str, dict] = {}
        for order_id, group in lines.groupby("order_id", sort=False):
            first = group.iloc[0]
            self.orders[order_id] = {"row": first.to_dict(), "lines": group.to_dict(orient="records"),
                                     "update_time": int(first["update_time"])}

    def order_json(self, order_id: str) -> dict:
        entry = self.orders[order_id]
        o = entry["row"]
        t = lambda name: None if pd.isna(o[name]) else int(o[name])  # noqa: E731
        items = []
        for line in entry["lines"]:
            q = int(line["quantity"])
            parts = {k: _split(line[k], q) for k in ("before", "platform_disc", "seller_disc", "after")}
            for unit in range(q):
                items.append({"id": f"{order_id}-{line['line_no']}-{unit}", "sku_id": line["sku_id"],
                              "seller_sku": line["seller_sku"], "product_name": line["product_name"],
                              "sku_name": line["variation"], "product_category": line["category"],
                              "original_price": _cents(parts["before"][unit]), "sale_price": _cents(parts["after"][unit]),
                              "platform_discount": _cents(parts["platform_disc"][unit]),
                              "seller_discount": _cents(parts["seller_disc"][unit]), "currency": o["currency"],
                              "package_id": o["package_id"], "tracking_number": o["tracking_id"],
                              "shipping_provider_name": o["shipping_provider"], "display_status": o["status"]})
        return {
            "id": order_id, "status": o["status"], "create_time": t("created_time"), "update_time": entry["update_time"],
            "paid_time": t("paid_time"), "rts_time": t("rts_time"), "collection_time": t("shipped_time"),
            "delivery_time": t("delivered_time"), "cancel_time": t("cancel_time"), "cancel_reason": o["cancel_reason"],
            "is_sample_order": bool(o["is_sample_order"]), "is_replacement_order": False, "seller_note": o["seller_note"],
            "payment_method_name": o["payment_method"], "user_id": f"7{int(o['buyer_id']) if o['buyer_id'].isdigit() else 0:017d}",
            "buyer_email": "v***@scs.tiktokw.us",  # masked, as the API sends it
            "recipient_address": {"name": "J*** D***", "phone_number": "(+44)77******12", "full_address": "******"},
            "payment": {"currency": o["currency"], "total_amount": _cents(o["order_amount"]),
                        "shipping_fee": _cents(o["ship_after"]), "original_shipping_fee": _cents(o["ship_original"]),
                        "shipping_fee_seller_discount": _cents(o["ship_seller_disc"]),
                        "shipping_fee_platform_discount": _cents(o["ship_platform_disc"]), "tax": _cents(o["taxes"]),
                        "small_order_fee": _cents(o["small_order_fee"])},
            "line_items": items,
        }

    def return_json(self, order_id: str) -> dict | None:
        entry = self.orders[order_id]
        o = entry["row"]
        if not o["refunded"]:
            return None
        units = [{"order_line_item_id": f"{order_id}-{line['line_no']}-{u}", "sku_id": line["sku_id"]}
                 for line in entry["lines"] for u in range(int(line["return_quantity"]))]
        return {"return_id": f"R{order_id}", "order_id": order_id, "return_status": "RETURN_OR_REFUND_REQUEST_COMPLETE",
                "refund_amount": {"currency": o["currency"], "refund_total": _cents(o["refund_amount"])},
                "return_line_items": units, "create_time": int(o["refund_time"]), "update_time": entry["update_time"]}

    def update(self, order_id: str, **changes) -> None:
        with self.lock:
            entry = self.orders[order_id]
            entry["row"] = {**entry["row"], **changes}
            entry["update_time"] = int(time.time())


class Statements:
    """Weekly statements, their order x SKU transactions and payments (truth/api_statements.parquet)."""

    MONEY = {"settlement": "settlement_amount", "revenue": "revenue_amount", "total_fees": "fee_tax_amount"}
    REVENUE = {"before": "subtotal_before_discount_amount", "seller_disc": "seller_discount_amount",
               "item": "subtotal_after_seller_discount_amount", "item_refund": "refund_subtotal_after_seller_discount_amount",
               "platform_disc": "platform_discount_amount", "payment": "customer_payment_amount",
               "pay_refund": "customer_refund_amount"}
    FEES = {"commission_fee": "platform_commission_amount", "transaction_fee": "transaction_fee_amount",
            "affiliate_commission": "affiliate_commission_amount"}
    SHIPPING = {"ship_paid": "customer_paid_shipping_fee_amount", "ship_platform": "platform_shipping_fee_discount_amount",
                "ship_actual": "actual_shipping_fee_amount", "ship_refund": "refunded_customer_shipping_fee_amount"}

    def __init__(self, rows: pd.DataFrame):
        self.rows = rows
        self.by_id = {sid: g for sid, g in rows.groupby("statement_id", sort=False)}

    def statements(self, market: str, ge: int, lt: int) -> list[dict]:
        out = []
        for sid, g in self.by_id.items():
            first = g.iloc[0]
            if first["market"] == market and ge <= int(first["statement_time"]) < lt:
                out.append({"id": sid, "statement_time": int(first["statement_time"]), "currency": first["currency"],
                            "settlement_amount": _cents(g["settlement"].sum()), "revenue_amount": _cents(g["revenue"].sum()),
                            "fee_amount": _cents(g["total_fees"].sum()), "payment_status": "PAID", "payment_id": f"P{sid}"})
        return sorted(out, key=lambda s: (s["statement_time"], s["id"]))

    def transactions(self, sid: str) -> list[dict]:
        out = []
        for r in self.by_id[sid].itertuples():
            out.append({
                "id": f"{sid}-{r.order_id}-{r.sku_id}", "type": "ORDER", "order_id": r.order_id, "sku_id": r.sku_id,
                "quantity": int(r.qty), "order_create_time": int(r.created_time), "settled_time": int(r.settled_time),
                "currency": r.currency, **{v: _cents(getattr(r, k)) for k, v in self.MONEY.items()},
                "revenue_breakdown": {v: _cents(getattr(r, k)) for k, v in self.REVENUE.items()},
                "fee_tax_breakdown": {"fee": {v: _cents(getattr(r, k)) for k, v in self.FEES.items()}, "tax": {}},
                "shipping_cost_breakdown": {v: _cents(getattr(r, k)) for k, v in self.SHIPPING.items()},
            })
        return out

    def payments(self, market: str, ge: int, lt: int) -> list[dict]:
        out = []
        for s in self.statements(market, ge, lt):
            first = self.by_id[s["id"]].iloc[0]
            out.append({"id": s["payment_id"], "create_time": s["statement_time"], "status": "PAID",
                        "amount": {"value": _cents(first["withdrawal"]), "currency": s["currency"]},
                        "settlement_amount": {"value": s["settlement_amount"], "currency": s["currency"]},
                        "reserve_amount": {"value": _cents(first["reserve"]), "currency": s["currency"]}})
        return out


class FakePartnerApi:
    def __init__(self, truth: Truth, app_key: str, app_secret: str, access_ttl: int = 3600, statements: Statements | None = None):
        self.statements = statements or Statements(pd.DataFrame(columns=["statement_id"]))
        self.truth, self.app_key, self.app_secret, self.access_ttl = truth, app_key, app_secret, access_ttl
        self.faults: collections.deque[str] = collections.deque()
        self.after_page: dict[int, callable] = {}  # orders-search page number served -> hook (e.g. update an order)
        self.pages_served = 0
        self.pages_by_cipher = collections.Counter()
        self.calls = collections.Counter()
        self.auth_codes = {"good-code"}
        self.access: dict[str, float] = {}
        self.refresh: dict[str, float] = {}
        self.rejected_signatures = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def expire_access_tokens(self) -> None:
        self.access.clear()

    def _tokens(self) -> dict:
        now = int(time.time())
        access, refresh = "TTP_" + secrets.token_urlsafe(24), "TTR_" + secrets.token_urlsafe(24)
        self.access[access] = now + self.access_ttl
        self.refresh[refresh] = now + 365 * 86400
        return {"access_token": access, "access_token_expire_in": now + self.access_ttl, "refresh_token": refresh,
                "refresh_token_expire_in": now + 365 * 86400, "open_id": "fake-open-id", "seller_name": "Luma Home",
                "seller_base_region": "GB", "user_type": 0, "granted_scopes": ["seller.order.info", "seller.finance.info"]}

    def _page(self, items: list[str], query: dict) -> tuple[list[str], str]:
        size = int(query.get("page_size") or 10)
        offset = int(base64.urlsafe_b64decode(query["page_token"]).decode()) if query.get("page_token") else 0
        nxt = offset + size
        token = base64.urlsafe_b64encode(str(nxt).encode()).decode() if nxt < len(items) else ""
        return items[offset:nxt], token

    def _window(self, body: dict, cipher: str) -> list[str]:
        market = self.truth.market_of_cipher[cipher]
        ge, lt = int(body.get("update_time_ge") or 0), int(body.get("update_time_lt") or 2**62)
        with self.truth.lock:
            found = [(e["update_time"], oid) for oid, e in self.truth.orders.items()
                     if e["row"]["market"] == market and ge <= e["update_time"] < lt]
        return [oid for _, oid in sorted(found)]

    def _handler(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, fmt, *args):
                pass

            def _send(self, payload: dict, status: int = 200, headers: dict | None = None):
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _envelope(self, code: int, message: str, data=None, status: int = 200, headers=None):
                self._send({"code": code, "message": message, "request_id": uuid.uuid4().hex, "data": data}, status, headers)

            def _route(self, method: str):
                url = urlsplit(self.path)
                query = dict(parse_qsl(url.query, keep_blank_values=True))
                raw = self.rfile.read(int(self.headers.get("content-length") or 0)) if method == "POST" else b""
                api.calls[url.path] += 1
                if url.path.startswith("/api/v2/token/"):
                    return self._token(url.path, query)
                expected = signing.sign(api.app_secret, url.path, query, raw)
                if query.get("app_key") != api.app_key or query.get("sign") != expected:
                    api.rejected_signatures += 1
                    return self._envelope(106001, "Invalid signature")
                if abs(int(query.get("timestamp") or 0) - time.time()) > SKEW:
                    api.rejected_signatures += 1
                    return self._envelope(106001, "timestamp is out of range")
                token = self.headers.get("x-tts-access-token", "")
                if api.access.get(token, 0) < time.time():
                    return self._envelope(36009004, "access token is invalid or expired")
                if api.faults:
                    fault = api.faults.popleft()
                    if fault == "429":
                        return self._envelope(36009002, "too many requests", status=429)
                    if fault == "429-retry-after":
                        return self._envelope(36009002, "too many requests", status=429, headers={"Retry-After": "1"})
                    if fault == "internal":
                        return self._envelope(36009003, "internal error")
                    if fault == "http500":
                        return self._send({"error": "bad gateway"}, 502)
                    if fault == "scope":
                        return self._envelope(105005, "you should apply auth pkg for this api")
                cipher = query.get("shop_cipher", "")
                if cipher not in api.truth.market_of_cipher:
                    return self._envelope(12000000, "shop_cipher is invalid")
                body = json.loads(raw) if raw else {}
                if url.path == "/order/202309/orders/search":
                    ids, token_next = self._page(api._window(body, cipher), query)
                    api.pages_served += 1
                    api.pages_by_cipher[cipher] += 1
                    with api.truth.lock:
                        orders = [api.truth.order_json(i) for i in ids]
                    total = len(api._window(body, cipher))
                    self._envelope(0, "Success", {"orders": orders, "next_page_token": token_next, "total_count": total})
                    if hook := api.after_page.pop(api.pages_served, None):
                        hook()
                    return None
                if url.path == "/return_refund/202309/returns/search":
                    window = ([i for i in body["order_ids"] if i in api.truth.orders] if "order_ids" in body
                              else api._window(body, cipher))
                    with api.truth.lock:
                        returns = [r for r in (api.truth.return_json(i) for i in window) if r]
                    ids, token_next = self._page([r["return_id"] for r in returns], query)
                    chosen = {r["return_id"]: r for r in returns}
                    return self._envelope(0, "Success", {"return_orders": [chosen[i] for i in ids], "next_page_token": token_next,
                                                         "total_count": len(returns)})
                market = api.truth.market_of_cipher[cipher]
                window = int(query.get("statement_time_ge") or query.get("create_time_ge") or 0), int(
                    query.get("statement_time_lt") or query.get("create_time_lt") or 2**62)
                if url.path == "/finance/202309/statements":
                    found = api.statements.statements(market, *window)
                    ids, token_next = self._page([s["id"] for s in found], query)
                    chosen = {s["id"]: s for s in found}
                    return self._envelope(0, "Success", {"statements": [chosen[i] for i in ids], "next_page_token": token_next})
                if url.path.startswith("/finance/202501/statements/") and url.path.endswith("/statement_transactions"):
                    sid = url.path.split("/")[4]
                    if sid not in api.statements.by_id:
                        return self._envelope(36009005, f"statement {sid} not found")
                    found = api.statements.transactions(sid)
                    ids, token_next = self._page([t["id"] for t in found], query)
                    chosen = {t["id"]: t for t in found}
                    return self._envelope(0, "Success", {"transactions": [chosen[i] for i in ids], "next_page_token": token_next,
                                                         "total_count": len(found)})
                if url.path == "/finance/202605/payments":
                    found = api.statements.payments(market, *window)
                    ids, token_next = self._page([p["id"] for p in found], query)
                    chosen = {p["id"]: p for p in found}
                    return self._envelope(0, "Success", {"payments": [chosen[i] for i in ids], "next_page_token": token_next})
                if url.path == "/order/202507/orders":
                    ids = [i for i in query.get("ids", "").split(",") if i in api.truth.orders]
                    with api.truth.lock:
                        return self._envelope(0, "Success", {"orders": [api.truth.order_json(i) for i in ids]})
                return self._envelope(40400, f"no such path {url.path}")

            def _page(self, items, query):
                return api._page(items, query)

            def _token(self, path: str, query: dict):
                if query.get("app_key") != api.app_key or query.get("app_secret") != api.app_secret:
                    return self._envelope(36004004, "app_key or app_secret is wrong")
                if path.endswith("/get") and query.get("grant_type") == "authorized_code" and query.get("auth_code") in api.auth_codes:
                    return self._envelope(0, "success", api._tokens())
                if path.endswith("/refresh") and api.refresh.get(query.get("refresh_token", ""), 0) > time.time():
                    api.refresh.pop(query["refresh_token"])
                    return self._envelope(0, "success", api._tokens())
                return self._envelope(36004003, "auth code or refresh token is invalid")

            def do_GET(self):
                self._route("GET")

            def do_POST(self):
                self._route("POST")

        return Handler


def send_webhook(url: str, app_key: str, secret: str, event: dict, signature: str | None = None) -> int:
    """POST one webhook as TikTok does: Authorization = hex HMAC-SHA256(secret, app_key + raw body)."""
    raw = json.dumps(event, separators=(",", ":")).encode()
    request = urllib.request.Request(url, data=raw, method="POST", headers={
        "content-type": "application/json", "Authorization": signature or signing.webhook_signature(app_key, secret, raw)})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
