"""What each creator cost in the window: commission, fixed fees, free samples and ads boosting their videos.

Amounts are in the creator's market currency. Commission actually paid and the estimate for
unsettled lines stay in separate columns; their sum is the commission cost used for ROI.
"""

from __future__ import annotations

import hashlib
import re

import duckdb
import pandas as pd

from shopkpi import paths
from shopkpi.creators.window import Window
from shopkpi.errors import NoDataError

# Spark Ads name the creator and the boosted video: "Spark | @handle | 7415730620064436416".
SPARK_AD_NAME = re.compile(r"@(?P<handle>[A-Za-z0-9_.]+)\s*\|\s*(?P<video_id>[0-9]{15,25})")
KEY = ["creator", "market"]


def has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]).fetchall()[0][0])


def require_table(con: duckdb.DuckDBPyConnection, table: str, why: str) -> None:
    if not has_table(con, table):
        raise NoDataError(f"the store has no `{table}` table ({why}); ingest that export first")


def landed_costs(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Landed cost per SKU and cost currency from the newest stock plan (mean over warehouses).

    Stock plans often have no market column (warehouse names are not a safe signal), so callers join
    on SKU ID and their own currency: a cost in another currency never prices a line.
    """
    require_table(con, "inventory_plan", "landed cost per SKU for samples and gross profit")
    return con.sql("""
        SELECT sku_id, currency, avg(CAST(landed_cost AS DOUBLE)) AS landed_cost
        FROM (SELECT * FROM inventory_plan WHERE sku_id IS NOT NULL AND landed_cost IS NOT NULL
              QUALIFY as_of = max(as_of) OVER (PARTITION BY sku_id, currency))
        GROUP BY ALL
    """).df()


def commissions(con: duckdb.DuckDBPyConnection, window: Window) -> pd.DataFrame:
    """Per creator: actual commission paid (standard + Shop Ads + co-funded bonus) and the estimate still open."""
    require_table(con, "affiliate_orders", "creator commission and attributed GMV")
    return con.execute("""
        SELECT creator_username AS creator, market, any_value(currency) AS currency,
            coalesce(sum(CAST(actual_commission_total AS DOUBLE)), 0) AS commission_paid,
            coalesce(sum(CAST(est_standard_commission + est_shop_ads_commission + coalesce(est_cofunded_bonus, 0) AS DOUBLE))
                FILTER (WHERE actual_commission_total IS NULL AND NOT coalesce(fully_returned, false)), 0)
                AS commission_estimated_open,
            count(*) FILTER (WHERE actual_commission_total IS NULL AND NOT coalesce(fully_returned, false)) AS lines_unsettled
        FROM affiliate_orders
        WHERE created_local_date BETWEEN ? AND ? AND creator_username IS NOT NULL
        GROUP BY ALL
    """, [window.start, window.end]).df().assign(
        commission=lambda d: d["commission_paid"] + d["commission_estimated_open"])


def buyer_hash_of(handle: str, salt: bytes) -> str:
    """The stored buyer hash a sample order to `handle` carries (sample orders name the creator as buyer)."""
    return hashlib.sha256(salt + handle.encode("utf-8")).hexdigest()[:20]


def sample_costs(con: duckdb.DuckDBPyConnection, client: str, window: Window, creators: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Free samples per creator: units x landed cost + shipping the seller absorbed.

    The orders export names the sample's recipient only as the buyer, which the store keeps as a
    salted hash; hashing each known creator handle with the client's salt finds their orders.
    Returns (per creator, totals of sample orders that matched no creator or no landed cost).
    """
    salt_path = paths.salt_file(client)
    samples = con.execute("""
        SELECT order_id, any_value(market) AS market, any_value(currency) AS currency, any_value(buyer_hash) AS buyer_hash,
               any_value(CAST(coalesce(shipping_fee_seller_discount, 0) AS DOUBLE)) AS shipping,
               list(sku_id) AS skus, list(quantity) AS units
        FROM clean_lines
        WHERE exclusion_reason = 'sample_order' AND created_local_date BETWEEN ? AND ?
        GROUP BY order_id
    """, [window.start, window.end]).df()
    empty = pd.DataFrame(columns=KEY + ["sample_orders", "sample_units", "sample_goods_cost", "sample_shipping", "sample_cost"])
    unmatched = {"orders": 0, "orders_without_landed_cost": 0}
    if samples.empty:
        return empty, unmatched
    if not salt_path.exists():
        raise NoDataError(f"{salt_path}: the buyer-hash salt is missing, so sample orders cannot be matched to creators")
    salt = salt_path.read_bytes()
    by_hash = {}
    for creator, market in creators[KEY].drop_duplicates().itertuples(index=False):
        for spelling in (creator, "@" + creator):
            by_hash[(buyer_hash_of(spelling, salt), market)] = creator
    samples["creator"] = [by_hash.get((h, m)) for h, m in zip(samples["buyer_hash"], samples["market"])]
    unmatched["orders"] = int(samples["creator"].isna().sum())
    lines = samples.dropna(subset=["creator"]).explode(["skus", "units"]).rename(columns={"skus": "sku_id", "units": "quantity"})
    lines = lines.merge(landed_costs(con), on=["sku_id", "currency"], how="left")
    unmatched["orders_without_landed_cost"] = int(lines.loc[lines["landed_cost"].isna(), "order_id"].nunique())
    lines["goods"] = lines["quantity"].astype(float) * lines["landed_cost"]
    per_order = lines.groupby(["order_id", "creator", "market"], as_index=False).agg(
        units=("quantity", "sum"), goods=("goods", "sum"), shipping=("shipping", "first"))
    out = per_order.groupby(KEY, as_index=False).agg(
        sample_orders=("order_id", "nunique"), sample_units=("units", "sum"), sample_goods_cost=("goods", "sum"),
        sample_shipping=("shipping", "sum"))
    out["sample_cost"] = out["sample_goods_cost"] + out["sample_shipping"]
    return out, unmatched


def videos_posted(con: duckdb.DuckDBPyConnection, end) -> pd.DataFrame:
    """Each creator video posted up to `end` (local date), with its posting order per creator."""
    require_table(con, "video_products", "videos posted per creator")
    return con.execute("""
        SELECT video_id, any_value(creator) AS creator, any_value(market) AS market,
               any_value(posted_local_date) AS posted_local_date, epoch(any_value(posted_at)) AS posted_epoch
        FROM video_products WHERE posted_local_date <= ? AND creator IS NOT NULL
        GROUP BY video_id
    """, [end]).df()


def fixed_fees(con: duckdb.DuckDBPyConnection, window: Window) -> tuple[pd.DataFrame, bool]:
    """Fixed fee per video x the contract videos posted in the window (the first `videos_promised` ones count).

    Returns (per contracted creator, whether a contracts sheet exists). Videos count from the contract
    start when the sheet gives one, else from the first video in the store.
    """
    if not has_table(con, "creator_contracts"):
        return pd.DataFrame(columns=KEY + ["fixed_fee_per_video", "videos_promised", "lives_promised", "fixed_fees"]), False
    contracts = con.sql("""
        SELECT creator, market, CAST(fixed_fee_per_video AS DOUBLE) AS fixed_fee_per_video,
               coalesce(videos_promised, 0) AS videos_promised, coalesce(lives_promised, 0) AS lives_promised,
               contract_start, contract_end, commission_model
        FROM creator_contracts
    """).df()
    videos = videos_posted(con, window.end).merge(contracts[KEY + ["contract_start", "contract_end"]], on=KEY)
    start, end = pd.to_datetime(videos["contract_start"]), pd.to_datetime(videos["contract_end"])
    posted = pd.to_datetime(videos["posted_local_date"])
    in_contract = (start.isna() | (posted >= start)) & (end.isna() | (posted <= end))
    videos = videos[in_contract.to_numpy()].sort_values(["creator", "market", "posted_epoch", "video_id"])
    videos["n"] = videos.groupby(KEY).cumcount() + 1
    videos = videos.merge(contracts[KEY + ["videos_promised"]], on=KEY)
    videos["paid"] = videos["n"] <= videos["videos_promised"]
    videos["paid_in_window"] = videos["paid"] & (pd.to_datetime(videos["posted_local_date"]) >= pd.Timestamp(window.start))
    counts = videos.groupby(KEY).agg(contract_videos_posted=("video_id", "size"),
                                     paid_videos_in_window=("paid_in_window", "sum"))
    out = contracts.merge(counts.reset_index(), on=KEY, how="left").merge(lives_hosted(con, contracts, window), on=KEY, how="left")
    done = ["contract_videos_posted", "paid_videos_in_window", "contract_lives_hosted"]
    out[done] = out[done].fillna(0).astype(int)
    out["fixed_fees"] = out["fixed_fee_per_video"].fillna(0) * out["paid_videos_in_window"]
    return out, True


def lives_hosted(con: duckdb.DuckDBPyConnection, contracts: pd.DataFrame, window: Window) -> pd.DataFrame:
    """LIVE sessions each contracted creator hosted within their contract, up to the window end."""
    if not has_table(con, "live_sessions"):
        return pd.DataFrame(columns=KEY + ["contract_lives_hosted"])
    lives = con.execute("SELECT creator, market, started_local_date FROM live_sessions WHERE started_local_date <= ?",
                        [window.end]).df().merge(contracts[KEY + ["contract_start", "contract_end"]], on=KEY)
    day = pd.to_datetime(lives["started_local_date"])
    start, end = pd.to_datetime(lives["contract_start"]), pd.to_datetime(lives["contract_end"])
    lives = lives[((start.isna() | (day >= start)) & (end.isna() | (day <= end))).to_numpy()]
    return lives.groupby(KEY).size().rename("contract_lives_hosted").reset_index()


def ad_spend(con: duckdb.DuckDBPyConnection, window: Window) -> tuple[pd.DataFrame, dict[str, float]]:
    """Spark Ads spend on each creator's videos, from the handle in the ad name; and spend naming no creator."""
    if not has_table(con, "ad_days"):
        return pd.DataFrame(columns=KEY + ["ad_spend", "boosted_videos"]), {}
    # ad_days: the ad account's days re-aligned to the shop's, like every other date in the window.
    ads = con.execute("""
        SELECT ad_name, market, sum(CAST(cost AS DOUBLE)) AS cost
        FROM ad_days WHERE report_date BETWEEN ? AND ? GROUP BY ALL
    """, [window.start, window.end]).df()
    found = ads["ad_name"].fillna("").str.extract(SPARK_AD_NAME)
    ads = pd.concat([ads, found], axis=1)
    named = ads.dropna(subset=["handle"])
    out = named.groupby(["handle", "market"], as_index=False).agg(ad_spend=("cost", "sum"), boosted_videos=("video_id", "nunique"))
    unnamed = ads[ads["handle"].isna()].groupby("market")["cost"].sum().round(2)
    return out.rename(columns={"handle": "creator"}), {m: float(v) for m, v in unnamed.items()}


def roster(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every creator the store knows of (snapshots, contracts, videos, LIVEs, affiliate lines)."""
    parts = [("creator_snapshots", "creator"), ("creator_contracts", "creator"), ("video_products", "creator"),
             ("live_sessions", "creator"), ("affiliate_orders", "creator_username")]
    queries = [f"SELECT DISTINCT {col} AS creator, market FROM {table} WHERE {col} IS NOT NULL"
               for table, col in parts if has_table(con, table)]
    return con.sql(" UNION ".join(queries)).df() if queries else pd.DataFrame(columns=KEY)


def creator_costs(con: duckdb.DuckDBPyConnection, client: str, window: Window) -> tuple[pd.DataFrame, dict]:
    """One row per creator with every cost part and the total; plus notes on what could not be matched."""
    comm = commissions(con, window)
    fees, has_contracts = fixed_fees(con, window)
    ads, unnamed_ads = ad_spend(con, window)
    known = pd.concat([comm[KEY], fees[KEY], ads[KEY], roster(con)]).drop_duplicates()
    samples, unmatched = sample_costs(con, client, window, known)
    out = known
    for part in (comm, fees.drop(columns=["contract_start", "contract_end"], errors="ignore"), samples, ads):
        out = out.merge(part, on=KEY, how="left")
    money = ["commission_paid", "commission_estimated_open", "commission", "fixed_fees", "sample_goods_cost",
             "sample_shipping", "sample_cost", "ad_spend"]
    counts = ["lines_unsettled", "sample_orders", "sample_units", "boosted_videos", "contract_videos_posted",
              "paid_videos_in_window", "videos_promised", "lives_promised", "contract_lives_hosted"]
    # A part with no source (no contracts sheet, no ads) is zero for everyone, never missing.
    for c in money:
        out[c] = pd.to_numeric(out[c], errors="coerce").fillna(0.0) if c in out else 0.0
    for c in counts:
        out[c] = pd.to_numeric(out[c], errors="coerce").fillna(0).astype(int) if c in out else 0
    out["total_cost"] = out["commission"] + out["fixed_fees"] + out["sample_cost"] + out["ad_spend"]
    notes = {"has_contracts": has_contracts, "unmatched_sample_orders": unmatched["orders"],
             "sample_orders_without_landed_cost": unmatched["orders_without_landed_cost"],
             "ad_spend_without_creator_by_market": unnamed_ads}
    return out.drop(columns=["currency"]), notes
