"""Order book assembly: organic and attributed orders, SKU lines, prices and discounts, buyers, fulfilment."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from shopkpi.demo.clock import HOUR, day_start, fix_dst_gap, random_time_of_day
from shopkpi.demo.demand import QTY_PROBS, QTY_VALUES
from shopkpi.demo.formats import NO_TIME
from shopkpi.demo.ids import increasing_ids
from shopkpi.demo.lifecycle import PlantedWeeks, simulate
from shopkpi.demo.markets import MARKET_CODES, MARKETS
from shopkpi.demo.people import build_customers, buyer_messages

ORGANIC_BREAK_PROB = 0.74  # P(next organic line starts a new order): 1-3 lines per order, mostly 1
MAX_LINES = 3
CHANNEL_ORDER = ["organic", "creator_video", "creator_showcase", "creator_live", "seller_live", "ads", "sample", "test"]
ORDER_COLUMNS = ["m_idx", "day", "created_ts", "channel", "creator_idx", "video_idx", "live_idx", "ad_idx",
                 "post_live"]


def column_arrays(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Columns as plain numpy arrays (object for text): cheap to index many times, unlike Arrow strings."""
    out = {}
    for col in frame.columns:
        values = frame[col]
        out[col] = values.to_numpy(dtype=object) if values.dtype == object or str(values.dtype) in ("str", "string") \
            else values.to_numpy()
    return out


def take(arrays: dict[str, np.ndarray], idx: np.ndarray) -> dict[str, np.ndarray]:
    return {k: v[idx] for k, v in arrays.items()}


@dataclass
class OrderBook:
    orders: pd.DataFrame  # one row per order, with lifecycle and money
    lines: pd.DataFrame  # one row per SKU line
    customers: dict[str, pd.DataFrame]

    def arrays(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, dict[str, np.ndarray]]]:
        """Numpy views of orders, lines and customers for repeated slicing by the exporters."""
        return column_arrays(self.orders), column_arrays(self.lines), {m: column_arrays(c) for m, c in self.customers.items()}


def organic_orders(rng: np.random.Generator, lam_org: np.ndarray, start_date: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    counts = rng.poisson(lam_org)
    s_idx, m_idx, d_idx = np.nonzero(counts)
    reps = counts[s_idx, m_idx, d_idx]
    sku = np.repeat(s_idx, reps)
    m = np.repeat(m_idx, reps)
    d = np.repeat(d_idx, reps)
    order = np.lexsort((rng.random(len(sku)), d, m))
    sku, m, d = sku[order], m[order], d[order]
    first_of_day = np.r_[True, (m[1:] != m[:-1]) | (d[1:] != d[:-1])]
    breaks = first_of_day | (rng.random(len(sku)) < ORGANIC_BREAK_PROB)
    group = np.cumsum(breaks) - 1
    pos = np.arange(len(sku)) - np.flatnonzero(breaks)[group]
    breaks |= (pos % MAX_LINES) == 0
    group = np.cumsum(breaks) - 1
    n_orders = int(group[-1]) + 1 if len(group) else 0
    head = np.flatnonzero(breaks)
    orders = _order_frame(n_orders, m[head], d[head], day_start(start_date, d[head]) + random_time_of_day(rng, n_orders),
                          "organic")
    lines = pd.DataFrame({"order_key": group, "sku_idx": sku}).drop_duplicates(["order_key", "sku_idx"])
    return orders, lines


def _order_frame(n: int, m_idx: np.ndarray, day: np.ndarray, created: np.ndarray, channel: str | np.ndarray,
                 **ids: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame({
        "m_idx": np.asarray(m_idx, dtype=np.int64), "day": np.asarray(day, dtype=np.int64),
        "created_ts": np.asarray(created, dtype=np.int64),
        "channel": np.broadcast_to(np.asarray(channel, dtype=object), (n,)).copy(),
    })
    for col in ("creator_idx", "video_idx", "live_idx", "ad_idx"):
        frame[col] = np.asarray(ids.get(col, np.full(n, -1)), dtype=np.int64)
    frame["post_live"] = np.asarray(ids.get("post_live", np.zeros(n, dtype=bool)), dtype=bool)
    return frame


def attributed_orders(table: pd.DataFrame, channel: str | np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Orders from videos, LIVEs or ads: a main SKU line and an optional second variant."""
    n = len(table)
    ids = {c: table[c].to_numpy() for c in ("creator_idx", "video_idx", "live_idx", "ad_idx", "post_live") if c in table}
    orders = _order_frame(n, table["m_idx"].to_numpy(), table["day"].to_numpy(), table["created_ts"].to_numpy(),
                          channel, **ids)
    key = np.arange(n)
    extra = table["sku_extra"].to_numpy()
    lines = pd.DataFrame({
        "order_key": np.concatenate([key, key[extra >= 0]]),
        "sku_idx": np.concatenate([table["sku_main"].to_numpy(), extra[extra >= 0]]),
    })
    return orders, lines


def sample_orders(rng: np.random.Generator, creators: pd.DataFrame, videos: pd.DataFrame, skus: pd.DataFrame,
                  prod_lam: np.ndarray, start_date: dt.date, n_hist: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Free samples shipped to creators before they post (some never post)."""
    m_list, d_list, c_list, s_list = [], [], [], []
    first_video = videos.groupby("creator_idx")["post_day"].min()
    main_product = videos.sort_values("post_day").groupby("creator_idx")["main_product"].first()
    variants = skus.groupby("product_idx")["sku_idx"].first()
    for c in creators.itertuples():
        m = MARKET_CODES.index(c.market)
        n_samples = int(rng.choice([1, 2, 3], p=[0.6, 0.3, 0.1]))
        if c.creator_idx in first_video.index:
            anchor = int(first_video[c.creator_idx])
            product = int(main_product[c.creator_idx])
        else:
            anchor = int(rng.integers(20, n_hist))
            w = prod_lam[:, m, min(anchor, n_hist - 1)]
            product = int(rng.choice(len(w), p=w / w.sum()))
        for k in range(n_samples):
            day = anchor - int(rng.integers(5, 21)) + 25 * k
            day = int(np.clip(day, 0, n_hist - 1))
            if k > 0:
                w = prod_lam[:, m, day]
                product = int(rng.choice(len(w), p=w / w.sum()))
            if prod_lam[product, m, day] <= 0:
                continue
            m_list.append(m)
            d_list.append(day)
            c_list.append(c.creator_idx)
            s_list.append(int(variants[product]))
    n = len(m_list)
    created = day_start(start_date, np.array(d_list, dtype=np.int64)) + rng.integers(10 * HOUR, 17 * HOUR, size=n)
    orders = _order_frame(n, np.array(m_list), np.array(d_list), created, "sample", creator_idx=np.array(c_list))
    lines = pd.DataFrame({"order_key": np.arange(n), "sku_idx": np.array(s_list, dtype=np.int64)})
    return orders, lines


def test_orders(rng: np.random.Generator, skus: pd.DataFrame, lam: np.ndarray, start_date: dt.date, n_hist: int,
                scale: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Staff test orders: a handful per market per month."""
    dates = np.datetime64(start_date.isoformat(), "D") + np.arange(n_hist)
    month = dates.astype("datetime64[M]")
    m_list, d_list, s_list = [], [], []
    for m in range(len(MARKET_CODES)):
        for mo in np.unique(month):
            days = np.flatnonzero(month == mo)
            k = int(rng.integers(2, 5)) if scale >= 0.25 else int(rng.integers(1, 3))
            for day in sorted(rng.choice(days, size=k).tolist()):
                w = lam[:, m, day]
                m_list.append(m)
                d_list.append(day)
                s_list.append(int(rng.choice(len(w), p=w / w.sum())))
    n = len(m_list)
    created = day_start(start_date, np.array(d_list, dtype=np.int64)) + rng.integers(10 * HOUR, 17 * HOUR, size=n)
    orders = _order_frame(n, np.array(m_list), np.array(d_list), created, "test")
    lines = pd.DataFrame({"order_key": np.arange(n), "sku_idx": np.array(s_list, dtype=np.int64)})
    return orders, lines


def combine(parts: list[tuple[pd.DataFrame, pd.DataFrame]], spells: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stack order sources, drop lines of SKUs that were out of stock that day, drop emptied orders."""
    all_orders, all_lines, offset = [], [], 0
    for orders, lines in parts:
        all_orders.append(orders)
        all_lines.append(lines.assign(order_key=lines["order_key"].to_numpy() + offset))
        offset += len(orders)
    orders = pd.concat(all_orders, ignore_index=True)
    lines = pd.concat(all_lines, ignore_index=True)
    line_m = orders["m_idx"].to_numpy()[lines["order_key"].to_numpy()]
    line_d = orders["day"].to_numpy()[lines["order_key"].to_numpy()]
    out = np.zeros(len(lines), dtype=bool)
    for sp in spells.itertuples():
        out |= ((lines["sku_idx"].to_numpy() == sp.sku_idx) & (line_m == sp.m_idx)
                & (line_d >= sp.start_day) & (line_d <= sp.end_day))
    lines = lines[~out]
    keep = np.zeros(len(orders), dtype=bool)
    keep[lines["order_key"].to_numpy()] = True
    new_key = np.cumsum(keep) - 1
    orders = orders[keep].reset_index(drop=True)
    lines = lines.assign(order_key=new_key[lines["order_key"].to_numpy()]).reset_index(drop=True)
    return orders, lines


def finalise(rng: np.random.Generator, orders: pd.DataFrame, lines: pd.DataFrame, skus: pd.DataFrame,
             creators: pd.DataFrame, mega_days: dict[str, np.ndarray], event_mult: dict[str, np.ndarray],
             planted: PlantedWeeks, start_date: dt.date) -> OrderBook:
    """Sort by time, assign IDs, quantities, money, buyers, fulfilment details and lifecycle."""
    orders = orders.copy()
    orders["market"] = np.array(MARKET_CODES, dtype=object)[orders["m_idx"].to_numpy()]
    created = orders["created_ts"].to_numpy().copy()
    for m, code in enumerate(MARKET_CODES):
        sel = orders["m_idx"].to_numpy() == m
        created[sel] = fix_dst_gap(created[sel], code)
    orders["created_ts"] = created
    chan_rank = orders["channel"].map({c: i for i, c in enumerate(CHANNEL_ORDER)}).to_numpy()
    order = np.lexsort((rng.random(len(orders)), chan_rank, orders["created_ts"].to_numpy(), orders["m_idx"].to_numpy()))
    remap = np.empty(len(orders), dtype=np.int64)
    remap[order] = np.arange(len(orders))
    orders = orders.iloc[order].reset_index(drop=True)
    lines = lines.assign(order_key=remap[lines["order_key"].to_numpy()])
    lines = lines.sort_values(["order_key", "sku_idx"], kind="stable").reset_index(drop=True)
    lines["line_no"] = lines.groupby("order_key").cumcount()
    orders["order_id"] = ""
    orders["package_id"] = ""
    for m, code in enumerate(MARKET_CODES):
        sel = np.flatnonzero(orders["m_idx"].to_numpy() == m)
        orders.loc[sel, "order_id"] = increasing_ids(rng, len(sel), MARKETS[code]["order_id_prefix"], 18)
        orders.loc[sel, "package_id"] = increasing_ids(rng, len(sel), "115" + str(m + 3), 19)

    special = orders["channel"].isin(["sample", "test"]).to_numpy()[lines["order_key"].to_numpy()]
    lines["qty"] = np.where(special, 1, rng.choice(QTY_VALUES, size=len(lines), p=QTY_PROBS))
    _price(rng, orders, lines, skus, mega_days, event_mult)
    life = simulate(rng, orders, planted)
    orders = pd.concat([orders, life], axis=1)
    _returns(rng, orders, lines)
    customers = _buyers(rng, orders, creators)
    _fulfilment(rng, orders, lines, skus)
    return OrderBook(orders=orders, lines=lines, customers=customers)


def _price(rng: np.random.Generator, orders: pd.DataFrame, lines: pd.DataFrame, skus: pd.DataFrame,
           mega_days: dict[str, np.ndarray], event_mult: dict[str, np.ndarray]) -> None:
    """Line and order money in minor units; Order Amount = sum(after discount) + shipping + taxes + small fee."""
    ok = lines["order_key"].to_numpy()
    m_line = orders["m_idx"].to_numpy()[ok]
    day_line = orders["day"].to_numpy()[ok]
    chan_line = orders["channel"].to_numpy()[ok]
    sku = lines["sku_idx"].to_numpy()
    price = np.where(m_line == 0, skus["price_cents_UK"].to_numpy()[sku], skus["price_cents_TH"].to_numpy()[sku])
    mega = np.zeros(len(lines), dtype=bool)
    promo = np.zeros(len(lines), dtype=bool)
    for m, code in enumerate(MARKET_CODES):
        sel = m_line == m
        mega[sel] = mega_days[code][day_line[sel]]
        promo[sel] = event_mult[code][day_line[sel]] >= 1.2
    n = len(lines)
    seller_rate = np.where(
        mega, np.where(rng.random(n) < 0.7, rng.choice([0.2, 0.25, 0.3], size=n), 0.1),
        np.where(promo, rng.choice([0.0, 0.1, 0.15], size=n, p=[0.3, 0.4, 0.3]),
                 np.where(rng.random(n) < 0.25, rng.choice([0.05, 0.1], size=n), 0.0)))
    platform_rate = np.where(mega, np.where(rng.random(n) < 0.6, rng.uniform(0.05, 0.12, size=n), 0.0),
                             np.where(rng.random(n) < 0.08, 0.05, 0.0))
    before = price * lines["qty"].to_numpy()
    # Thai campaigns discount in whole baht; UK in pence.
    step = np.where(m_line == 1, 100, 1)
    platform = (np.round(before * platform_rate / step) * step).astype(np.int64)
    seller = (np.round(before * seller_rate / step) * step).astype(np.int64)
    sample = chan_line == "sample"
    platform[sample] = 0
    seller[sample] = before[sample]
    lines["unit_price"] = price
    lines["before"] = before
    lines["platform_disc"] = platform
    lines["seller_disc"] = seller
    lines["after"] = before - platform - seller

    subtotal = np.bincount(ok, weights=lines["after"].to_numpy(), minlength=len(orders)).round().astype(np.int64)
    n_o = len(orders)
    m_o = orders["m_idx"].to_numpy()
    mega_o = np.zeros(n_o, dtype=bool)
    for m, code in enumerate(MARKET_CODES):
        sel = m_o == m
        mega_o[sel] = mega_days[code][orders["day"].to_numpy()[sel]]
    fee = np.where(m_o == 0, round(MARKETS["UK"]["shipping_fee"] * 100), round(MARKETS["TH"]["shipping_fee"] * 100))
    threshold = np.where(m_o == 0, MARKETS["UK"]["free_shipping_threshold"] * 100,
                         MARKETS["TH"]["free_shipping_threshold"] * 100)
    chan = orders["channel"].to_numpy()
    free_by_seller = (subtotal >= threshold) | ((chan == "sample") & (rng.random(n_o) < 0.7))
    free_by_platform = ~free_by_seller & (chan != "sample") & np.where(
        m_o == 0, mega_o & (rng.random(n_o) < 0.5), rng.random(n_o) < 0.55)
    ship_seller = np.where(free_by_seller, fee, 0)
    ship_platform = np.where(free_by_platform, fee, 0)
    small_fee = np.where((m_o == 1) & (subtotal < MARKETS["TH"]["small_order_threshold"] * 100) & (chan != "sample"),
                         round(MARKETS["TH"]["small_order_fee"] * 100), 0)
    orders["subtotal"] = subtotal
    orders["ship_original"] = fee
    orders["ship_seller_disc"] = ship_seller
    orders["ship_platform_disc"] = ship_platform
    orders["ship_after"] = fee - ship_seller - ship_platform
    orders["taxes"] = 0
    orders["small_order_fee"] = small_fee
    orders["order_amount"] = subtotal + orders["ship_after"].to_numpy() + small_fee


def _returns(rng: np.random.Generator, orders: pd.DataFrame, lines: pd.DataFrame) -> None:
    """Which lines a refund covers; refund amount includes shipping only for full returns."""
    ok = lines["order_key"].to_numpy()
    refunded = orders["refund_ts"].to_numpy() != NO_TIME
    n_lines = np.bincount(ok, minlength=len(orders))
    partial = refunded & (n_lines > 1) & (rng.random(len(orders)) < 0.4)
    returned = refunded[ok] & (~partial[ok] | (lines["line_no"].to_numpy() == 0))
    lines["return_qty"] = np.where(returned, lines["qty"].to_numpy(), 0)
    ret_amount = np.bincount(ok, weights=np.where(returned, lines["after"].to_numpy(), 0), minlength=len(orders))
    full = refunded & ~partial
    orders["refund_amount_on_return"] = (ret_amount.round().astype(np.int64)
                                         + np.where(full, orders["ship_after"].to_numpy(), 0))
    orders["full_refund"] = full


def _buyers(rng: np.random.Generator, orders: pd.DataFrame, creators: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Repeat customers: buyer drawn from a pool with a skew so some accounts order many times."""
    customers: dict[str, pd.DataFrame] = {}
    orders["customer_idx"] = -1
    chan = orders["channel"].to_numpy()
    for m, code in enumerate(MARKET_CODES):
        sel = np.flatnonzero((orders["m_idx"].to_numpy() == m) & ~np.isin(chan, ["sample", "test"]))
        pool = max(50, int(len(sel) * 0.72))
        customers[code] = build_customers(rng, code, pool)
        orders.loc[sel, "customer_idx"] = np.minimum((pool * rng.random(len(sel)) ** 1.8).astype(np.int64), pool - 1)
        # Creators receive samples at their own (fake) address: reuse a pool record per creator.
        samp = np.flatnonzero((orders["m_idx"].to_numpy() == m) & (chan == "sample"))
        orders.loc[samp, "customer_idx"] = (orders["creator_idx"].to_numpy()[samp] * 7919 + 13) % pool
    handles = creators.set_index("creator_idx")["handle"]
    orders["sample_handle"] = np.where(chan == "sample", handles.reindex(orders["creator_idx"]).fillna("").to_numpy(), "")
    test_no = np.zeros(len(orders), dtype=np.int64)
    test_sel = np.flatnonzero(chan == "test")
    test_no[test_sel] = 1 + rng.integers(0, 3, size=len(test_sel))
    orders["test_buyer"] = np.where(chan == "test", np.char.add("test_buyer_0", test_no.astype(str)).astype(object), "")
    return customers


def _fulfilment(rng: np.random.Generator, orders: pd.DataFrame, lines: pd.DataFrame, skus: pd.DataFrame) -> None:
    n = len(orders)
    m_o = orders["m_idx"].to_numpy()
    provider = np.empty(n, dtype=object)
    payment = np.empty(n, dtype=object)
    tracking = np.empty(n, dtype=object)
    for m, code in enumerate(MARKET_CODES):
        sel = m_o == m
        k = int(sel.sum())
        mk = MARKETS[code]
        provider[sel] = np.array(mk["shipping_providers"], dtype=object)[
            rng.choice(len(mk["shipping_providers"]), size=k, p=mk["shipping_provider_weights"])]
        payment[sel] = np.array(mk["payment_methods"], dtype=object)[
            rng.choice(len(mk["payment_methods"]), size=k, p=mk["payment_method_weights"])]
    digits = rng.integers(10**11, 10**12, size=n).astype(str).astype(object)
    letters = np.array(list("ABCDEFGHJKLMNPRSTUVWXYZ"), dtype=object)[rng.integers(0, 23, size=(n, 2))]
    formats = {
        "Royal Mail": lambda i: letters[i, 0] + letters[i, 1] + digits[i][:9] + "GB",
        "Evri": lambda i: "H01" + letters[i, 0] + letters[i, 1] + "A" + digits[i][:10],
        "DPD": lambda i: "155" + digits[i][:11],
        "Yodel": lambda i: "JD00022" + digits[i][:11],
        "Flash Express": lambda i: "TH" + digits[i][:10] + letters[i, 0],
        "J&T Express": lambda i: "8" + digits[i][:11],
        "Kerry Express": lambda i: "KERDO" + digits[i][:10],
        "Thailand Post": lambda i: "E" + letters[i, 0] + digits[i][:9] + "TH",
    }
    for name, fmt in formats.items():
        idx = np.flatnonzero(provider == name)
        tracking[idx] = [fmt(i) for i in idx.tolist()]
    orders["shipping_provider"] = provider
    orders["payment_method"] = np.where(orders["channel"].to_numpy() == "sample", "Free sample", payment)
    orders["tracking_id"] = np.where(orders["tracking_missing"].to_numpy(), "", tracking)
    weight = skus["weight_kg"].to_numpy()[lines["sku_idx"].to_numpy()] * lines["qty"].to_numpy()
    orders["weight_kg"] = np.bincount(lines["order_key"].to_numpy(), weights=weight, minlength=n).round(2)
    for code in MARKET_CODES:
        sel = (m_o == MARKET_CODES.index(code))
        orders.loc[sel, "buyer_message"] = buyer_messages(rng, code, int(sel.sum()))
