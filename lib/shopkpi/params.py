"""Client parameters (params/<client>.yaml) and run parameters, validated with clear errors.

papermill injects unknown parameter names with only a warning and coerces values
(`-p client 007` gives the int 7), so every notebook hands its parameters to
``resolve_run`` before doing anything else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from shopkpi import paths
from shopkpi.errors import ParamsError
from shopkpi.periods import Period, parse_period
from shopkpi.restock.options import RestockOptions
from shopkpi.targets.config import TargetsConfig

Language = Literal["zh", "en"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Market(_Strict):
    code: str = Field(pattern=r"^[A-Z]{2}$", description="ISO country code of the shop's market, e.g. UK, TH")
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    timezone: str
    shop_name: str = ""
    ads_timezone: str | None = Field(default=None, description="the ad account's time zone if not the shop's; "
                                     "its days are re-aligned to the shop's (an export that states its zone wins)")

    @field_validator("timezone", "ads_timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name like Europe/London)") from None
        return value


class FxRate(_Strict):
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    valid_from: dt.date = Field(alias="from")
    rate: float = Field(gt=0, description="units of the reporting currency per 1 unit of `currency`")


SALES_LINE_COLUMNS = {"order_id", "sku", "product_name", "quantity", "unit_price", "line_amount", "ordered_at",
                      "buyer", "country", "status"}
SALES_LINE_REQUIRED = {"order_id", "sku", "quantity", "ordered_at"}


class SalesLinesMapping(_Strict):
    """A client's own sales-lines CSV (independent site, Shopify...): which header holds what."""

    market: str = Field(description="market code the sales belong to")
    columns: dict[str, str] = Field(description="canonical column -> header in the client's file")
    timestamp_format: str = "%Y-%m-%d %H:%M:%S"
    cancelled_order_prefix: str | None = Field(default=None, description="order numbers starting with this are cancellations")
    non_product_skus: list[str] = Field(default_factory=list, description="SKUs that are fees or adjustments, not products")

    @field_validator("columns")
    @classmethod
    def _known_columns(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - SALES_LINE_COLUMNS)
        if unknown:
            raise ValueError(f"unknown column name(s) {unknown}; use {sorted(SALES_LINE_COLUMNS)}")
        missing = sorted(SALES_LINE_REQUIRED - set(value))
        if missing:
            raise ValueError(f"missing required column(s) {missing}")
        if not {"unit_price", "line_amount"} & set(value):
            raise ValueError("map unit_price or line_amount")
        return value


class ReportOptions(_Strict):
    top_skus: int = Field(default=10, ge=1, le=100)
    also_in: list[Language] = Field(default_factory=list, description="render the review report in these languages too")
    account_lead: str | None = Field(default=None, description="who owns company-wide alerts in the review (a name or role)")


class ApiShop(_Strict):
    market: str = Field(pattern=r"^[A-Z]{2}$", description="the market (one of `markets`) this authorised shop sells in")
    shop_cipher: str = Field(min_length=1, description="the shop's cipher from Get Authorized Shops (not a secret)")
    shop_id: str = Field(default="", description="the shop's id, which webhooks name (Get Authorized Shops)")


class ApiOptions(_Strict):
    """TikTok Shop Open API access. The app key and secret come from the environment, never from this file."""

    shops: list[ApiShop] = Field(default_factory=list)
    api_url: str = "https://open-api.tiktokglobalshop.com"
    auth_url: str = "https://auth.tiktok-shops.com"
    # Not published; one agency reports 50 requests/s and 10,000 requests a day per brand [unconfirmed].
    requests_per_second: float = Field(default=10.0, gt=0)
    daily_requests: int = Field(default=10_000, ge=1)
    page_size: int = Field(default=50, ge=1, le=100)
    max_retries: int = Field(default=6, ge=0, le=20)


class NotifyChannel(_Strict):
    name: str = Field(min_length=1, description="what the channel is, for logs (e.g. boss-lark, team-email)")
    url: str = Field(min_length=4, description="an Apprise URL (lark://, wecombot://, dingtalk://, slack://, mailto://, json://...); "
                                             "write secrets as ${ENV_NAME}")
    language: Language | None = Field(default=None, description="message and PDF language (default: the client's)")
    attach_pdf: bool = True
    max_alerts: int = Field(default=5, ge=0, le=20)


class NotifyOptions(_Strict):
    """Where the review goes after a run (shopkpi.notify); a failed channel is retried and never fails the run."""

    channels: list[NotifyChannel] = Field(default_factory=list)
    retries: int = Field(default=3, ge=0, le=10)


class ClientParams(_Strict):
    client: str
    display_name: str
    language: Language = "en"
    reporting_currency: str = Field(pattern=r"^[A-Z]{3}$")
    markets: list[Market] = Field(min_length=1)
    fx: list[FxRate] = Field(default_factory=list)
    report: ReportOptions = ReportOptions()
    sales_lines: SalesLinesMapping | None = None
    targets: TargetsConfig = TargetsConfig()
    restock: RestockOptions = RestockOptions()
    targets_file: str | None = Field(default=None, description="a YAML of targets beside this file (params/...), merged into `targets`")
    fx_file: str | None = Field(default=None, description="a CSV of rates beside this file (currency,from,rate), added to `fx`")
    api: ApiOptions | None = None
    notify: NotifyOptions | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "ClientParams":
        paths.check_client_name(self.client)
        codes = [m.code for m in self.markets]
        if len(set(codes)) != len(codes):
            raise ValueError(f"markets: duplicate market codes {codes}")
        have_fx = {f.currency for f in self.fx} | {self.reporting_currency}
        missing = sorted({m.currency for m in self.markets} - have_fx)
        if missing:
            raise ValueError(f"fx: no rate to {self.reporting_currency} for {', '.join(missing)}")
        if self.sales_lines and self.sales_lines.market not in codes:
            raise ValueError(f"sales_lines.market {self.sales_lines.market!r} is not one of the markets {codes}")
        strays = sorted({i.market for i in self.targets.items if i.market} - set(codes))
        if strays:
            raise ValueError(f"targets: market(s) {strays} are not among the markets {codes}")
        self.targets.check_markets(codes)  # people's and shops' markets: fail when the params load, not mid-report
        return self

    def market(self, code: str) -> Market:
        for market in self.markets:
            if market.code == code:
                return market
        raise ParamsError(f"market {code!r} is not one of this client's markets {[m.code for m in self.markets]}")

    def fx_rate(self, currency: str, on: dt.date) -> tuple[float, dt.date]:
        """Rate to the reporting currency in force on a date, and the date it took effect."""
        if currency == self.reporting_currency:
            return 1.0, dt.date.min
        rates = sorted((f for f in self.fx if f.currency == currency), key=lambda f: f.valid_from)
        in_force = [f for f in rates if f.valid_from <= on]
        if not in_force:
            raise ParamsError(f"fx: no {currency}->{self.reporting_currency} rate in force on {on}")
        return in_force[-1].rate, in_force[-1].valid_from


def _format_validation_error(source: Path, error: ValidationError) -> str:
    lines = [f"{source}: invalid client parameters"]
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "(top level)"
        lines.append(f"  - {where}: {item['msg']}")
    return "\n".join(lines)


def _merge_targets_file(source: Path, raw: dict) -> dict:
    """`targets_file` (a sheet of targets kept apart from the client's settings): lists appended, keys added."""
    file = _inside(source, "targets_file", str(raw["targets_file"]))
    try:
        extra = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ParamsError(f"{file}: not valid YAML: {exc}") from None
    if not isinstance(extra, dict):
        raise ParamsError(f"{file}: expected a mapping like `items: [...]`, got {type(extra).__name__}")
    merged = dict(raw.get("targets") or {})
    for key, value in extra.items():
        if isinstance(value, list):
            merged[key] = list(merged.get(key) or []) + value
        elif key in merged:
            raise ParamsError(f"{file}: {key!r} is also set under `targets:` in {source.name}; set it in one place")
        else:
            merged[key] = value
    return merged


def _inside(source: Path, key: str, name: str) -> Path:
    file = (source.parent / name).resolve()
    if source.parent.resolve() not in file.parents:
        raise ParamsError(f"{source}: {key} {name!r} must be a file inside {source.parent}")
    if not file.exists():
        raise ParamsError(f"{source}: {key} {name!r} does not exist ({file})")
    return file


def _read_fx_file(source: Path, name: str) -> list[dict]:
    """`fx_file`: a dated rate table kept as a CSV (currency,from,rate), e.g. the finance team's monthly rates."""
    import csv

    file = _inside(source, "fx_file", name)
    with open(file, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip().lower() for h in reader.fieldnames or []]
        if sorted(header) != ["currency", "from", "rate"]:
            raise ParamsError(f"{file}, row 1: expected the columns currency, from, rate; found {', '.join(reader.fieldnames or []) or 'none'}")
        rows = []
        for number, row in enumerate(reader, start=2):
            row = {k.strip().lower(): (v or "").strip() for k, v in row.items()}
            try:
                rows.append(FxRate.model_validate(row).model_dump(by_alias=True))
            except ValidationError as exc:
                item = exc.errors()[0]
                column = "from" if item["loc"][0] == "valid_from" else item["loc"][0]
                raise ParamsError(f"{file}, row {number}, column {column}: {item['msg']} (value {row.get(column)!r})") from None
    return rows


def load_client_params(client: str) -> ClientParams:
    """Read and validate params/<client>.yaml."""
    source = paths.params_file(client)
    if not source.exists():
        known = sorted(p.stem for p in paths.params_dir().glob("*.yaml"))
        raise ParamsError(f"{source}: no params file for client {client!r}; known clients: {known or 'none'}")
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ParamsError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ParamsError(f"{source}: expected a mapping of parameters, got {type(raw).__name__}")
    if raw.get("targets_file"):
        raw = {**raw, "targets": _merge_targets_file(source, raw)}
    if raw.get("fx_file"):
        raw = {**raw, "fx": list(raw.get("fx") or []) + _read_fx_file(source, str(raw["fx_file"]))}
    try:
        params = ClientParams.model_validate(raw)
    except ValidationError as exc:
        raise ParamsError(_format_validation_error(source, exc)) from None
    if params.client != client:
        raise ParamsError(f"{source}: 'client: {params.client}' does not match the file name ({client})")
    return params


@dataclass(frozen=True)
class RunContext:
    """What a notebook needs: validated client params, period, language and paths."""

    params: ClientParams
    period: Period
    language: Language

    @property
    def client(self) -> str:
        return self.params.client

    @property
    def outputs_dir(self) -> Path:
        return paths.period_outputs_dir(self.client, self.period.name)

    @property
    def artifacts_dir(self) -> Path:
        return paths.artifacts_dir(self.client, self.period.name)


def resolve_run(client, period="", language="", **unknown) -> RunContext:
    """Validate a notebook's parameters; an empty period means the latest complete week."""
    if unknown:
        raise ParamsError(f"unknown parameter(s): {', '.join(sorted(unknown))}")
    if not isinstance(client, str):
        raise ParamsError(f"client must be a string, got {client!r} ({type(client).__name__}); quote it in YAML")
    params = load_client_params(client)
    if language in ("", None):
        language = params.language
    if language not in ("zh", "en"):
        raise ParamsError(f"language must be 'zh' or 'en', got {language!r}")
    if period in ("", None):
        from shopkpi.store import latest_complete_week  # local import: keeps params import-light

        resolved = latest_complete_week(params)
    else:
        resolved = parse_period(str(period))
    return RunContext(params=params, period=resolved, language=language)
