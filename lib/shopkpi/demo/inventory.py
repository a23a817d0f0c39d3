"""Stock: planted past stock-out spells (censored demand), daily stock history, and the purchasing sheet."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shopkpi.demo.demand import EXPECTED_QTY, DemandModel
from shopkpi.demo.markets import MARKET_CODES, MARKETS
from shopkpi.demo.orders import OrderBook
from shopkpi.demo.writers import write_csv, write_xlsx

PLAN_HEADER = ["Seller SKU", "SKU ID", "Product name", "Warehouse", "On hand", "Inbound qty", "Inbound ETA",
               "Lead time (days)", "Lead time std (days)", "MOQ", "Case pack", "Unit cost (CNY)",
               "Landed cost (local currency)", "Currency"]
HISTORY_HEADER = ["Date", "Seller SKU", "SKU ID", "Warehouse", "On hand", "Received", "Stockout"]


def plan_past_spells(rng: np.random.Generator, demand: DemandModel, skus: pd.DataFrame, scale: float) -> pd.DataFrame:
    """Out-of-stock spells on well-selling SKUs; all their sales those days are lost (censored demand)."""
    n_hist = demand.n_hist
    hist = demand.history().sum(axis=2)
    n_spells = 6 if scale >= 0.25 else 3
    rows = []
    eligible = (~skus["is_new"].to_numpy()) & (~skus["is_intermittent"].to_numpy())
    for k in range(n_spells):
        m = k % len(MARKET_CODES)
        ranked = np.argsort(-hist[:, m], kind="stable")
        top = [s for s in ranked[: max(5, len(ranked) // 2)] if eligible[s] and s not in [r["sku_idx"] for r in rows]]
        s = int(rng.choice(top))
        start = int(rng.integers(30, n_hist - 45))
        length = int(rng.integers(6, 21))
        rows.append({"sku_idx": s, "m_idx": m, "market": MARKET_CODES[m], "start_day": start,
                     "end_day": start + length - 1})
    return pd.DataFrame(rows)


def plan_positions(rng: np.random.Generator, demand: DemandModel, skus: pd.DataFrame, spells: pd.DataFrame,
                   scale: float) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Stock position at end_date per SKU x market; a few planted to run out before their inbound lands."""
    fut_units = demand.future() * EXPECTED_QTY  # n_sku x M x F
    n_sku = len(skus)
    horizon = fut_units.shape[2]
    n_upcoming = 3 if scale >= 0.25 else 2
    hist = demand.history()[:, :, -28:].sum(axis=2)
    upcoming: set[tuple[int, int]] = set()
    past = set(zip(spells["sku_idx"], spells["m_idx"]))
    for k in range(n_upcoming):
        m = k % len(MARKET_CODES)
        ranked = [s for s in np.argsort(-hist[:, m], kind="stable")[:20].tolist()
                  if (s, m) not in past and (s, m) not in upcoming and not skus["is_new"].iloc[s]]
        upcoming.add((int(rng.choice(ranked[:10])), m))
    rows = []
    truth = []
    for m, market in enumerate(MARKET_CODES):
        lt_range = (25, 45) if market == "UK" else (12, 25)
        for s in range(n_sku):
            cum = np.cumsum(fut_units[s, m])
            case = int(skus["case_pack"].iloc[s])
            lead = int(rng.integers(*lt_range))
            lead_sd = int(rng.integers(2, 10 if market == "UK" else 6))
            moq = int(rng.choice([50, 100, 200, 300, 500]))
            if (s, m) in upcoming:
                runs_out = int(rng.integers(10, 25))
                on_hand = int(np.floor(cum[runs_out - 1]))
                eta = runs_out + int(rng.integers(10, 21))
                inbound = max(moq, int(np.ceil(cum[-1] / case)) * case)
            else:
                cover = int(rng.integers(35, 76))
                eta = int(rng.integers(15, 41))
                on_hand = int(np.ceil(max(cum[min(cover, horizon) - 1], cum[eta - 1] * 1.25 + 1)))
                need = cum[-1] * 1.15 - on_hand
                inbound = 0 if need <= 0 else max(moq, int(np.ceil(need / case)) * case)
            stockout_day = int(np.argmax(cum > on_hand)) if cum[-1] > on_hand else -1
            if inbound > 0 and stockout_day >= eta:
                stockout_day = -1 if cum[-1] <= on_hand + inbound else int(np.argmax(cum > on_hand + inbound))
            rows.append({"sku_idx": s, "m_idx": m, "market": market, "on_hand": on_hand, "inbound_qty": inbound,
                         "eta_day": eta if inbound > 0 else -1, "lead_time": lead, "lead_time_sd": lead_sd, "moq": moq})
            if (s, m) in upcoming:
                truth.append({"sku_idx": s, "market": market, "on_hand": on_hand, "inbound_qty": inbound,
                              "inbound_eta_offset_days": eta, "expected_stockout_offset_days": stockout_day + 1,
                              "expected_units_short_before_inbound": float(round(cum[eta - 1] - on_hand, 2))})
    return pd.DataFrame(rows), truth


def realised_units(book: OrderBook, n_sku: int, n_hist: int) -> np.ndarray:
    """Units leaving stock per SKU x market x day: paid lines of orders not cancelled."""
    o, ln = book.orders, book.lines
    ok = ln["order_key"].to_numpy()
    kept = (o["cancel_by"].to_numpy() == "")[ok]
    out = np.zeros((n_sku, len(MARKET_CODES), n_hist))
    np.add.at(out, (ln["sku_idx"].to_numpy()[kept], o["m_idx"].to_numpy()[ok][kept], o["day"].to_numpy()[ok][kept]),
              ln["qty"].to_numpy()[kept])
    return out


def stock_history(rng: np.random.Generator, units: np.ndarray, skus: pd.DataFrame, spells: pd.DataFrame,
                  positions: pd.DataFrame) -> pd.DataFrame:
    """End-of-day on hand built backwards from sales so it hits exactly zero at each planted spell."""
    n_sku, n_m, n_hist = units.shape
    frames = []
    pos = positions.set_index(["sku_idx", "m_idx"])
    for m in range(n_m):
        for s in range(n_sku):
            sales = units[s, m]
            first = max(0, int(skus["launch_day"].iloc[s]) - 3)
            sp = spells[(spells["sku_idx"] == s) & (spells["m_idx"] == m)].sort_values("start_day")
            out_days = np.zeros(n_hist, dtype=bool)
            for r in sp.itertuples():
                out_days[r.start_day:r.end_day + 1] = True
            mean = max(sales[first:].mean(), 0.05)
            starts = [first]
            d = first
            while True:
                d += int(rng.integers(25, 46))
                if d >= n_hist:
                    break
                starts.append(d)
            for r in sp.itertuples():
                starts = [x for x in starts if not (r.start_day - 5 <= x <= r.end_day + 5)]
                starts.append(r.end_day + 1) if r.end_day + 1 < n_hist else None
            starts = sorted(set(x for x in starts if not out_days[x]))
            on_hand = np.zeros(n_hist)
            received = np.zeros(n_hist)
            for i, a in enumerate(starts):
                nxt = starts[i + 1] if i + 1 < len(starts) else n_hist
                seg_days = np.arange(a, nxt)
                seg_days = seg_days[~out_days[seg_days]]
                if len(seg_days) == 0:
                    continue
                e = int(seg_days[-1])
                if e == n_hist - 1:
                    safety = float(pos.loc[(s, m), "on_hand"])
                elif e + 1 < n_hist and out_days[e + 1]:
                    safety = 0.0
                else:
                    safety = float(max(1, round(mean * rng.uniform(5, 15))))
                tail = np.cumsum(sales[seg_days][::-1])[::-1] - sales[seg_days]  # sales after each day in segment
                on_hand[seg_days] = safety + tail
            prev = np.r_[0.0, on_hand[:-1]]
            received = np.maximum(0, on_hand - prev + sales)
            received[first] = on_hand[first] + sales[first]
            days = np.arange(first, n_hist)
            frames.append(pd.DataFrame({"sku_idx": s, "m_idx": m, "day": days, "on_hand": on_hand[days].round().astype(np.int64),
                                        "received": received[days].round().astype(np.int64),
                                        "stockout": out_days[days].astype(np.int64)}))
    return pd.concat(frames, ignore_index=True)


def write_inventory_files(root: Path, skus: pd.DataFrame, positions: pd.DataFrame, history: pd.DataFrame,
                          start_date: dt.date, end_date: dt.date, fixed_time: dt.datetime) -> dict[str, int]:
    counts: dict[str, int] = {}
    rows: list[list[Any]] = [PLAN_HEADER]
    for r in positions.sort_values(["m_idx", "sku_idx"]).itertuples():
        sk = skus.iloc[r.sku_idx]
        market = MARKET_CODES[r.m_idx]
        eta = end_date + dt.timedelta(days=int(r.eta_day)) if r.eta_day >= 0 else None
        rows.append([sk["seller_sku"], sk[f"sku_id_{market}"], f"{sk['product_name']} - {sk['variation']}",
                     MARKETS[market]["warehouse"], int(r.on_hand), int(r.inbound_qty), eta, int(r.lead_time),
                     int(r.lead_time_sd), int(r.moq), int(sk["case_pack"]), float(sk["unit_cost_cny"]),
                     round(sk[f"landed_cents_{market}"] / 100, 2), MARKETS[market]["currency"]])
    rel = f"inventory/Stock plan {end_date.isoformat()}.xlsx"
    write_xlsx(root / rel, [("Stock plan", rows)], fixed_time=fixed_time,
               column_widths={"A": 14, "B": 22, "C": 40, "D": 14, "G": 12})
    counts[rel] = len(rows) - 1
    h = history.sort_values(["m_idx", "sku_idx", "day"], kind="stable")
    dates = (np.datetime64(start_date.isoformat(), "D") + h["day"].to_numpy()).astype(str).astype(object)
    sku = h["sku_idx"].to_numpy()
    m = h["m_idx"].to_numpy()
    sku_id = np.where(m == 0, skus["sku_id_UK"].to_numpy()[sku], skus["sku_id_TH"].to_numpy()[sku])
    frame = pd.DataFrame({
        "Date": dates, "Seller SKU": skus["seller_sku"].to_numpy()[sku], "SKU ID": sku_id,
        "Warehouse": np.array([MARKETS[c]["warehouse"] for c in MARKET_CODES], dtype=object)[m],
        "On hand": h["on_hand"].to_numpy(), "Received": h["received"].to_numpy(), "Stockout": h["stockout"].to_numpy(),
    })
    rel = "inventory/stock_history_daily.csv"
    counts[rel] = write_csv(root / rel, HISTORY_HEADER, frame)
    return counts
