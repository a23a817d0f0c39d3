"""Daily actuals for every KPI a target can name, at the finest node (market, shop, team, person, owner).

One long table (day, market, shop, team, person, owner, kpi, num, den): additive KPIs sum `num`; ratio KPIs
are sum(num) / sum(den) over any set of days and nodes, never an average of daily ratios.
Money is in the reporting currency at the rate in force on the day.

`team` and `person` say where the data puts a row (creators: the affiliate creator; live: the host; ads: the
ad account). `owner` is the agency person credited with it: a video's editor (tagging sheet), a LIVE
session's host, an ad campaign's buyer (campaign-name patterns in `targets.people`). `shop` comes from the
raw file the row was read from (`targets.shops`); it is empty when the client declares no shops.
"""

from __future__ import annotations

import datetime as dt
from fnmatch import fnmatchcase

import pandas as pd
import pyarrow as pa

from shopkpi.errors import ParamsError
from shopkpi.report import fx_join
from shopkpi.ingest.kinds.video_data import create_videos_view
from shopkpi.targets.config import TEAM_OF_ROLE, TargetsConfig

COLUMNS = ["day", "market", "shop", "team", "person", "owner", "kpi", "num", "den"]


def _tables(con) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for table, column in con.execute("SELECT table_name, column_name FROM information_schema.columns").fetchall():
        out.setdefault(table, set()).add(column)
    return out


_fx = fx_join  # the one FX conversion (report.py)


def _queries(con, tables: dict[str, set[str]], shops: bool) -> list[str]:
    """Each query yields (day, market, source_file, team, person, owner, kpi, num, den)."""
    net = "exclusion_reason IS NULL"
    if shops:  # an order's lines all come from the newest export holding it: that file tells its shop
        con.execute("CREATE OR REPLACE TEMP VIEW target_order_file AS "
                    "SELECT order_id, market, min(source_file) AS source_file FROM clean_lines GROUP BY ALL")
        orders, order_file = "clean_orders o LEFT JOIN target_order_file f USING (order_id, market)", "f.source_file"
    else:
        orders, order_file = "clean_orders o", "NULL"
    queries = [f"""
        SELECT paid_local_date AS day, market, source_file, '' AS team, '' AS person, '' AS owner, kpi, num, den FROM (
            SELECT o.paid_local_date, o.market, {order_file} AS source_file,
                   sum(o.gmv_net * fx.rate) AS gmv_net,
                   sum(o.order_amount * fx.rate) AS gmv_gross,
                   count(*) FILTER (WHERE {net}) AS orders, sum(o.units) FILTER (WHERE {net}) AS units
            FROM {orders} {_fx("o", "paid_local_date")}
            WHERE o.paid_local_date IS NOT NULL GROUP BY ALL
        ) UNPIVOT (num FOR kpi IN (gmv_net, gmv_gross, orders, units)) CROSS JOIN (SELECT NULL::DOUBLE AS den)
        UNION ALL
        SELECT o.paid_local_date, o.market, {order_file}, '', '', '', 'aov',
               sum(o.gmv_net * fx.rate), count(*)
        FROM {orders} {_fx("o", "paid_local_date")}
        WHERE {net} GROUP BY ALL
        UNION ALL
        SELECT l.paid_local_date, l.market, l.source_file, '', '', '', 'content_gmv_share', NULL, sum(l.subtotal_after_discount * fx.rate)
        FROM clean_lines l {_fx("l", "paid_local_date")}
        WHERE l.{net} GROUP BY ALL
    """]
    if "affiliate_orders" in tables:
        live_ok = "lower(a.order_status) NOT IN ('canceled', 'cancelled') AND NOT coalesce(a.fully_returned, false)"
        queries.append(f"""
            SELECT a.paid_local_date, a.market, a.source_file, '', '', '', 'content_gmv_share', sum(a.payment_amount * fx.rate), NULL
            FROM affiliate_orders a {_fx("a", "paid_local_date")}
            WHERE {live_ok} AND a.content_type IN ('Video', 'LIVE') AND a.paid_local_date IS NOT NULL GROUP BY ALL
            UNION ALL
            SELECT a.paid_local_date, a.market, a.source_file, 'creators', a.creator_username, '', 'creator_gmv',
                   sum(a.payment_amount * fx.rate), NULL
            FROM affiliate_orders a {_fx("a", "paid_local_date")}
            WHERE {live_ok} AND a.paid_local_date IS NOT NULL GROUP BY ALL
            UNION ALL
            SELECT first_day, market, source_file, 'creators', creator_username, '', 'new_creators', 1, NULL FROM (
                SELECT market, creator_username, min(created_local_date) AS first_day,
                       arg_min(source_file, created_local_date) AS source_file FROM affiliate_orders
                WHERE creator_username IS NOT NULL GROUP BY market, creator_username)
        """)
    if "video_products" in tables:
        # One row per video (views and watch time once per video, product sales summed); the editor from the
        # tagging sheet. Video Data figures are the video's lifetime to the export, so they fall on the posting day.
        create_videos_view(con, "target_videos")
        con.execute("CREATE OR REPLACE TEMP VIEW target_video_file AS "
                    "SELECT video_id, currency, max(source_file) AS source_file FROM video_products GROUP BY ALL")
        editor = "coalesce(t.editor, '')" if "editor" in tables.get("content_tags", set()) else "''"
        tags = "LEFT JOIN content_tags t USING (video_id)" if editor != "''" else ""
        queries.append(f"""
            SELECT day, market, source_file, 'creators', creator, owner, kpi, num, den FROM (
                SELECT v.posted_local_date AS day, v.market, f.source_file, v.creator, {editor} AS owner,
                       count(*) AS videos_posted, sum(v.gmv * fx.rate) AS video_gmv,
                       sum(v.views * v.avg_watch_time_s) / 3600.0 AS watch_hours
                FROM target_videos v
                JOIN target_video_file f USING (video_id, currency)
                {tags} {_fx("v", "posted_local_date")}
                GROUP BY ALL
            ) UNPIVOT (num FOR kpi IN (videos_posted, video_gmv, watch_hours)) CROSS JOIN (SELECT NULL::DOUBLE AS den)
            UNION ALL
            SELECT v.posted_local_date, v.market, f.source_file, 'creators', v.creator, {editor}, 'content_cvr',
                   sum(v.orders), sum(v.product_clicks)
            FROM target_videos v
            JOIN target_video_file f USING (video_id, currency)
            {tags} GROUP BY ALL
        """)
    if "live_sessions" in tables:
        queries.append(f"""
            SELECT s.started_local_date, s.market, s.source_file, 'live', s.creator, s.creator, 'live_hours',
                   sum(s.duration_s) / 3600.0, NULL
            FROM live_sessions s GROUP BY ALL
            UNION ALL
            SELECT s.started_local_date, s.market, s.source_file, 'live', s.creator, s.creator, 'live_gmv', sum(s.gmv * fx.rate), NULL
            FROM live_sessions s {_fx("s", "started_local_date")} GROUP BY ALL
            UNION ALL
            SELECT s.started_local_date, s.market, s.source_file, 'live', s.creator, s.creator, 'watch_hours',
                   sum(s.viewers * s.avg_view_duration_s) / 3600.0, NULL
            FROM live_sessions s GROUP BY ALL
            UNION ALL
            SELECT s.started_local_date, s.market, s.source_file, 'live', s.creator, s.creator, 'content_cvr',
                   sum(s.orders), sum(s.product_clicks)
            FROM live_sessions s GROUP BY ALL
        """)
    if "ad_days" in tables:  # ad_stats on the shop's days (connect_clean builds it from the ad account's days)
        ads = ("FROM ad_days a LEFT JOIN target_campaign_owner b ON a.market = b.market AND a.campaign_name = b.campaign_name "
               + _fx("a", "report_date"))
        queries.append(f"""
            SELECT a.report_date, a.market, a.source_file, 'ads', '', coalesce(b.owner, ''), 'ad_spend', sum(a.cost * fx.rate), NULL
            {ads} GROUP BY ALL
            UNION ALL
            SELECT a.report_date, a.market, a.source_file, 'ads', '', coalesce(b.owner, ''), 'roas',
                   sum(a.complete_payment_value * fx.rate), sum(a.cost * fx.rate)
            {ads} GROUP BY ALL
        """)
    return queries


def _register(con, name: str, columns: list[str], rows: list[tuple]) -> None:
    table = pa.table({c: pa.array([r[i] for r in rows], pa.string()) for i, c in enumerate(columns)})
    con.register(name, table)


def campaign_owners(con, config: TargetsConfig) -> list[tuple[str, str, str]]:
    """(market, campaign name, ad buyer) for every campaign a buyer's pattern matches; a campaign two buyers claim is refused."""
    buyers = config.role_people("ad_buyer")
    if not buyers:
        return []
    campaigns = con.execute("SELECT DISTINCT market, campaign_name FROM ad_stats WHERE campaign_name IS NOT NULL").fetchall()
    out = []
    for market, name in campaigns:
        owners = [b.name for b in buyers if (not b.markets or market in b.markets)
                  and any(fnmatchcase(name.lower(), p.lower()) for p in b.campaigns)]
        if len(owners) > 1:
            raise ParamsError(f"targets.people: campaign {name!r} ({market}) matches the patterns of several ad buyers "
                              f"{owners}; make the patterns exclusive")
        if owners:
            out.append((market, name, owners[0]))
    return out


def file_shops(con, tables: dict[str, set[str]], config: TargetsConfig) -> list[tuple[str, str, str]]:
    """(market, source file, shop) for every stored file a shop's pattern matches; a file two shops claim is refused."""
    if not config.shops:
        return []
    files = set()
    for table, columns in tables.items():
        if {"market", "source_file"} <= columns and table in ("order_lines", "affiliate_orders", "video_products",
                                                              "live_sessions", "ad_stats"):
            files |= set(con.execute(f"SELECT DISTINCT market, source_file FROM {table} WHERE source_file IS NOT NULL").fetchall())
    out = []
    for market, file in sorted(files, key=lambda f: (str(f[0]), f[1])):
        shops = [s.name for s in config.shops if s.market == market and any(fnmatchcase(file, p) for p in s.files)]
        if len(shops) > 1:
            raise ParamsError(f"targets.shops: file {file!r} ({market}) matches the patterns of several shops {shops}; "
                              "make the patterns exclusive")
        if shops:
            out.append((market, file, shops[0]))
    return out


def daily_actuals(con, end: dt.date, config: TargetsConfig | None = None) -> pd.DataFrame:
    """Every KPI's daily (num, den) per node up to `end`; needs `clean_*` views and the `fx` table."""
    config = config or TargetsConfig()
    tables = _tables(con)
    _register(con, "target_campaign_owner", ["market", "campaign_name", "owner"],
              campaign_owners(con, config) if "ad_stats" in tables else [])
    _register(con, "target_file_shop", ["market", "source_file", "shop"], file_shops(con, tables, config))
    union = "\nUNION ALL\n".join(f"({q})" for q in _queries(con, tables, bool(config.shops)))
    df = con.execute(f"""
        SELECT u.day, u.market, coalesce(s.shop, '') AS shop, coalesce(u.team, '') AS team,
               coalesce(u.person, '') AS person, coalesce(u.owner, '') AS owner, u.kpi,
               sum(CAST(u.num AS DOUBLE)) AS num, sum(CAST(u.den AS DOUBLE)) AS den
        FROM ({union}) AS u (day, market, source_file, team, person, owner, kpi, num, den)
        LEFT JOIN target_file_shop s ON u.market = s.market AND u.source_file = s.source_file
        WHERE u.day IS NOT NULL AND u.day <= ?
        GROUP BY ALL
    """, [end]).df()
    df["day"] = pd.to_datetime(df["day"]).dt.date
    return df[COLUMNS]


def with_node_columns(actuals: pd.DataFrame) -> pd.DataFrame:
    """Actuals built without shops or owners (older callers, hand-made tables) get them empty."""
    missing = [c for c in ("shop", "owner") if c not in actuals.columns]
    return actuals.assign(**dict.fromkeys(missing, "")) if missing else actuals


def node_mask(actuals: pd.DataFrame, market: str | None = None, team: str | None = None, person: str | None = None,
              *, shop: str | None = None, role: str | None = None, config: TargetsConfig | None = None) -> pd.Series:
    """Rows under a node: a node's actual is the sum of everything below it.

    A role's rows are those credited to its people: an operator's are every row of their markets (and shops);
    an editor's, host's or buyer's are their team's rows whose `owner` they are. Without a person, the role's
    actual covers everyone credited in that role (for operators: the declared ones).
    """
    mask = pd.Series(True, index=actuals.index)
    for column, value in (("market", market), ("shop", shop), ("team", team)):
        if value:
            mask &= actuals[column] == value
    if not role:
        if person:
            mask &= actuals["person"] == person
        return mask
    people = [p for p in (config.role_people(role) if config else []) if not person or p.name == person]
    if role == "operator":
        owned = pd.Series(False, index=actuals.index)
        for p in people:
            mine = actuals["market"].isin(p.markets)
            if p.shops:
                mine &= actuals["shop"].isin(p.shops)
            owned |= mine
        return mask & owned
    mask &= (actuals["team"] == TEAM_OF_ROLE[role]) & (actuals["owner"] != "")
    if person:
        mask &= actuals["owner"] == person
        if people and people[0].markets:
            mask &= actuals["market"].isin(people[0].markets)
    return mask
