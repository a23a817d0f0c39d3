"""A small TikTok Shop Open API client: signed requests, retries, a per-shop rate and daily budget, token refresh.

Facts (shared/reference partner_api_fees_pages.md §2): success is `code == 0` in the JSON envelope, whatever
the HTTP status; 36009002 (often HTTP 429) and 36009003 are retried with backoff, honouring Retry-After;
36009004 means the access token is invalid or expired (refresh once, then retry); the other codes are not
retried and raise an ApiError that says which client and shop and what to do. Rate limits are not
published, so both budgets are settings (`api.requests_per_second`, `api.daily_requests`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import threading
import time
from collections.abc import Callable
from urllib.parse import urlencode

import httpx

from shopkpi import paths
from shopkpi.api import signing, tokens as token_store
from shopkpi.errors import ShopkpiError
from shopkpi.params import ApiOptions

log = logging.getLogger("shopkpi.api")
# httpx logs every request URL at INFO, and the token calls carry the app secret in theirs (the API's design).
logging.getLogger("httpx").setLevel(logging.WARNING)
logging.getLogger("httpcore").setLevel(logging.WARNING)

RATE_LIMITED, INTERNAL, TOKEN_INVALID = 36009002, 36009003, 36009004
RETRYABLE = {RATE_LIMITED, INTERNAL}
# What to do about a code that is not retried [reference §2.3; the codes' meanings are from public clients].
ACTIONS = {
    106001: "the request signature was rejected: check the app secret (and that the clock is right)",
    10008: "the request signature was rejected: check the app secret (and that the clock is right)",
    12000000: "the shop cipher is wrong: refresh the shop list (Get Authorized Shops) in the client's params",
    21008111: "the order belongs to another shop: check the shop cipher of this market",
    105005: "the app lacks the scope for this endpoint: add it in Partner Center and re-authorise (shopkpi connect)",
    36009043: "the shop is disabled on TikTok Shop: nothing to sync until it is restored",
    36009044: "the seller account is disabled on TikTok Shop: nothing to sync until it is restored",
}
REFRESH_BEFORE = 300  # refresh an access token this many seconds before its expiry


class ApiError(ShopkpiError):
    def __init__(self, message: str, code: int | None = None, request_id: str = ""):
        super().__init__(message)
        self.code, self.request_id = code, request_id


class BudgetExhausted(ApiError):
    pass


class RateLimiter:
    """A token bucket (requests per second) and a daily budget per shop, the day count kept on disk."""

    def __init__(self, client: str, per_second: float, per_day: int, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.client, self.rate, self.per_day = client, per_second, per_day
        self.clock, self.sleep = clock, sleep
        self.tokens, self.last = per_second, clock()
        self.lock = threading.Lock()
        self.path = paths.api_state_dir(client) / "request_budget.json"

    def _day_counts(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            return {}

    def take(self, shop: str) -> None:
        with self.lock:
            today = dt.datetime.now(dt.timezone.utc).date().isoformat()
            counts = self._day_counts()
            used = counts.get(today, {}).get(shop, 0)
            if used >= self.per_day:
                raise BudgetExhausted(f"client {self.client}, shop {shop}: the daily API budget of {self.per_day:,} requests "
                                      f"(api.daily_requests) is used up for {today} (UTC); the sync resumes from its cursor tomorrow")
            while True:
                now = self.clock()
                self.tokens = min(self.rate, self.tokens + (now - self.last) * self.rate)
                self.last = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    break
                self.sleep((1 - self.tokens) / self.rate)
            counts = {today: {**counts.get(today, {}), shop: used + 1}}  # only today's count is kept
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(counts))


class PartnerClient:
    def __init__(self, client: str, options: ApiOptions, app_key: str, app_secret: str, *,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep,
                 retry_base: float = 0.5, max_wait: float = 60.0, timeout: float = 30.0):
        self.client, self.options = client, options
        self.app_key, self._secret = app_key, app_secret
        self.clock, self.sleep, self.retry_base, self.max_wait = clock, sleep, retry_base, max_wait
        self.http = httpx.Client(timeout=timeout)
        self.limiter = RateLimiter(client, options.requests_per_second, options.daily_requests, sleep=sleep)
        self._tokens: token_store.Tokens | None = None
        self.requests = 0
        self.retries: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"PartnerClient(client={self.client!r}, app_key={self.app_key!r})"  # the secret never shows

    def close(self) -> None:
        self.http.close()

    # ---- OAuth -------------------------------------------------------------------------------------
    def authorize_url(self, service_id: str, state: str, us: bool = False) -> str:
        host = "https://services.us.tiktokshop.com" if us else "https://services.tiktokshop.com"
        return f"{host}/open/authorize?{urlencode({'service_id': service_id, 'state': state})}"

    def _token_call(self, path: str, query: dict) -> token_store.Tokens:
        # The secret travels in the query here (the API's own design); the URL is never logged.
        response = self.http.get(self.options.auth_url + path, params={"app_key": self.app_key, "app_secret": self._secret, **query})
        body = self._envelope(response, path, shop="-")
        if body.get("code") != 0:
            raise ApiError(f"client {self.client}: token call {path} failed with code {body.get('code')}: "
                           f"{body.get('message', '')}; run `shopkpi connect --client {self.client}` again", body.get("code"),
                           body.get("request_id", ""))
        found = token_store.Tokens.from_api(body["data"])
        token_store.save(self.client, found)
        self._tokens = found
        return found

    def exchange_code(self, auth_code: str) -> token_store.Tokens:
        return self._token_call("/api/v2/token/get", {"auth_code": auth_code, "grant_type": "authorized_code"})

    def refresh(self) -> token_store.Tokens:
        current = self.tokens()
        if current.refresh_token_expire_in <= self.clock():
            raise ApiError(f"client {self.client}: the refresh token expired; the seller must authorise again (shopkpi connect)")
        log.info("client %s: refreshing the access token", self.client)
        return self._token_call("/api/v2/token/refresh", {"refresh_token": current.refresh_token, "grant_type": "refresh_token"})

    def tokens(self) -> token_store.Tokens:
        if self._tokens is None:
            self._tokens = token_store.load(self.client)
        return self._tokens

    # ---- requests ----------------------------------------------------------------------------------
    def _envelope(self, response: httpx.Response, path: str, shop: str) -> dict:
        try:
            return response.json()
        except ValueError:
            if response.status_code == 429 or response.status_code >= 500:
                return {"code": RATE_LIMITED if response.status_code == 429 else INTERNAL, "message": f"HTTP {response.status_code}"}
            raise ApiError(f"client {self.client}, shop {shop}: {path} answered HTTP {response.status_code} without a JSON body") from None

    def _wait(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return min(float(retry_after), self.max_wait)
            except ValueError:
                pass
        return min(self.retry_base * 2 ** attempt * (0.5 + random.random() / 2), self.max_wait)

    def request(self, method: str, path: str, *, shop_cipher: str | None = None, query: dict | None = None,
                body: dict | None = None, shop: str = "-") -> dict:
        """One API call's `data`, retried on the retryable codes; raises ApiError with the action to take."""
        refreshed = False
        for attempt in range(self.options.max_retries + 1):
            if self.tokens().access_expires_within(REFRESH_BEFORE, self.clock()):
                self.refresh()
            self.limiter.take(shop)
            params = {k: str(v) for k, v in (query or {}).items() if v is not None and v != ""}
            params |= {"app_key": self.app_key, "timestamp": str(int(self.clock()))}
            if shop_cipher:
                params["shop_cipher"] = shop_cipher
            raw = json.dumps(body, separators=(",", ":")).encode() if body is not None else b""
            params["sign"] = signing.sign(self._secret, path, params, raw)
            headers = {"x-tts-access-token": self.tokens().access_token, "content-type": "application/json"}
            self.requests += 1
            try:
                response = self.http.request(method, self.options.api_url + path, params=params, content=raw or None,
                                             headers=headers)
            except httpx.TransportError as exc:
                self._count("network")
                log.warning("client %s, shop %s: %s %s failed (%s); retrying", self.client, shop, method, path, type(exc).__name__)
                self.sleep(self._wait(attempt, None))
                continue
            envelope = self._envelope(response, path, shop)
            code = envelope.get("code")
            if code == 0:
                return envelope.get("data") or {}
            if code in RETRYABLE or response.status_code == 429 or response.status_code >= 500:
                kind = "rate_limited" if code == RATE_LIMITED or response.status_code == 429 else "internal"
                self._count(kind)
                wait = self._wait(attempt, response.headers.get("Retry-After"))
                log.info("client %s, shop %s: %s on %s (code %s, HTTP %s); retry in %.2fs", self.client, shop, kind, path,
                         code, response.status_code, wait)
                self.sleep(wait)
                continue
            if code == TOKEN_INVALID and not refreshed:
                self._count("token_refresh")
                self.refresh()
                refreshed = True
                continue
            action = ACTIONS.get(code, "see the message; this code is not retried")
            raise ApiError(f"client {self.client}, shop {shop}: {method} {path} failed with code {code} "
                           f"({envelope.get('message', '')}, request {envelope.get('request_id', '')}): {action}",
                           code, envelope.get("request_id", ""))
        raise ApiError(f"client {self.client}, shop {shop}: {method} {path} still failing after "
                       f"{self.options.max_retries} retries (api.max_retries); the sync resumes from its cursor next time")

    def _count(self, kind: str) -> None:
        self.retries[kind] = self.retries.get(kind, 0) + 1
