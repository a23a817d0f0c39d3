"""Tests for the demo client generator (scale 0.02, a few seconds per generation)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from shopkpi.demo import DemoSummary, generate_demo_client
from shopkpi.demo.generator import planned_order_lines
from shopkpi.demo.orders_export import COLUMNS, ORDER_LEVEL_MONEY

SCALE = 0.02
FORBIDDEN_HEADER_WORDS = ["is_fake", "fake", "true_", "truth", "lift", "planted", "multiplier", "mu_views",
                          "expected_", "conv_mult", "followers_real", "roas_target"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoSummary, dict]:
    root = tmp_path_factory.mktemp("demo") / "client"
    summary = generate_demo_client(root, seed=42, scale=SCALE)
    truth = json.loads((root / "truth" / "truth.json").read_text(encoding="utf-8"))
    return root, summary, truth


def _hashes(raw: Path) -> dict[str, str]:
    return {str(p.relative_to(raw)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(raw.rglob("*")) if p.is_file()}


def _read_orders(path: Path) -> pd.DataFrame:
    """Data rows only (description row dropped), everything as text."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig").iloc[1:].reset_index(drop=True)


def _order_files(raw: Path) -> list[Path]:
    return sorted(raw.glob("*/orders/*.csv"))


def _money(values: pd.Series) -> np.ndarray:
    cleaned = values.str.replace("THB", "", regex=False).str.replace(",", "", regex=False).str.strip()
    return np.round(cleaned.astype(float).to_numpy() * 100).astype(np.int64)


def _malformed(df: pd.DataFrame) -> np.ndarray:
    return (~df["Order ID"].str.fullmatch(r"\d{18}") | df["Created Time"].str.startswith("31/02/")
            | ~df["Quantity"].str.fullmatch(r"\d+")).to_numpy()


def test_deterministic_same_seed_and_different_seed(demo, tmp_path: Path) -> None:
    root, _, _ = demo
    again = tmp_path / "again"
    generate_demo_client(again, seed=42, scale=SCALE)
    assert _hashes(root / "raw") == _hashes(again / "raw")
    assert (root / "truth" / "truth.json").read_bytes() == (again / "truth" / "truth.json").read_bytes()
    other = tmp_path / "other"
    generate_demo_client(other, seed=7, scale=SCALE)
    a, b = _hashes(root / "raw"), _hashes(other / "raw")
    orders_a = {h for k, h in a.items() if "/orders/" in k}
    orders_b = {h for k, h in b.items() if "/orders/" in k}
    assert orders_a and orders_b and not orders_a & orders_b


def test_regeneration_only_replaces_raw_and_truth(tmp_path: Path) -> None:
    root = tmp_path / "client"
    (root / "raw").mkdir(parents=True)
    (root / "raw" / "stale.csv").write_text("old")
    (root / "store").mkdir()
    (root / "store" / "keep.txt").write_text("keep")
    progress: list[str] = []
    generate_demo_client(root, seed=1, scale=SCALE, progress=progress.append)
    assert not (root / "raw" / "stale.csv").exists()
    assert (root / "store" / "keep.txt").read_text() == "keep"
    assert (root / "truth" / "truth.json").exists() and not list((root / "raw").rglob("truth*"))
    assert any(m.startswith("orders: UK") for m in progress)


def test_orders_files_have_header_description_and_ids(demo) -> None:
    root, _, _ = demo
    files = _order_files(root / "raw")
    assert len(files) >= 26
    for path in files:
        market = path.parts[-3]
        full = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        assert list(full.columns) == COLUMNS[market]
        assert full.iloc[0]["Order ID"] == "Platform unique order ID."
        assert full.iloc[0]["SKU Subtotal Before Discount"] == "It equals to SKU Unit Original Price * Sku Quantity."
        df = full.iloc[1:]
        clean = df[~_malformed(df)]
        assert clean["Order ID"].str.fullmatch(r"5[78]\d{16}").all()
        assert df["SKU ID"].str.fullmatch(r"\d{19}").all()
        assert len(df) <= 15_000
    assert len(COLUMNS["TH"]) == 54 and "Retail Delivery Fee" not in COLUMNS["UK"]


def test_order_level_money_repeats_and_adds_up(demo) -> None:
    root, _, truth = demo
    dirty = {r["order_id"] for r in truth["dirt"]["malformed_rows"]}
    for path in _order_files(root / "raw"):
        df = _read_orders(path)
        df = df[~_malformed(df) & ~df["Order ID"].isin(dirty)]
        cols = [c for c in ORDER_LEVEL_MONEY if c in df.columns]
        assert (df.groupby("Order ID")[cols].nunique() == 1).all().all(), path
        before = _money(df["SKU Subtotal Before Discount"])
        assert (before == _money(df["SKU Unit Original Price"]) * df["Quantity"].astype(int).to_numpy()).all()
        after = before - _money(df["SKU Platform Discount"]) - _money(df["SKU Seller Discount"])
        assert (after == _money(df["SKU Subtotal After Discount"])).all()
        per = df.assign(after=after).groupby("Order ID").agg(
            after=("after", "sum"), ship=("Shipping Fee After Discount", "first"), tax=("Taxes", "first"),
            small=("Small Order Fee" if "Small Order Fee" in df else "Taxes", "first"), amount=("Order Amount", "first"))
        extra = _money(per["small"]) if "Small Order Fee" in df else 0
        assert (per["after"].to_numpy() + _money(per["ship"]) + _money(per["tax"]) + extra == _money(per["amount"])).all()


def test_overlapping_windows_repeat_rows_and_statuses_change(demo) -> None:
    root, _, truth = demo
    for market in ("UK", "TH"):
        files = sorted((root / "raw" / market / "orders").glob("*.csv"))
        ids = [set(_read_orders(p)["Order ID"]) for p in files]
        assert all(len(a & b) > 0 for a, b in zip(ids, ids[1:]))
    changes = truth["dirt"]["status_changes"]
    assert sum(len(c["rows"]) for c in changes) > 0
    block = max(changes, key=lambda c: len(c["rows"]))
    older = _read_orders(root / "raw" / block["older_file"]).drop_duplicates("Order ID").set_index("Order ID")
    newer = _read_orders(root / "raw" / block["newer_file"]).drop_duplicates("Order ID").set_index("Order ID")
    for order_id, old_state, new_state in block["rows"][:50]:
        assert older.loc[order_id, "Order Status"] == old_state.split(" + ")[0]
        assert newer.loc[order_id, "Order Status"] == new_state.split(" + ")[0]
    assert any("Completed" in r[2] or "Return/Refund" in r[2] for c in changes for r in c["rows"])


def test_dirt_rows_present_exactly_as_recorded(demo) -> None:
    root, _, truth = demo
    records = truth["dirt"]["malformed_rows"]
    assert {r["kind"] for r in records} == {"order_id_scientific", "impossible_date", "non_numeric_quantity"}
    for r in records:
        df = _read_orders(root / "raw" / r["file"])
        assert df.loc[r["data_row"], r["column"]] == r["written_value"]
    found = sum(int(_malformed(_read_orders(p)).sum()) for p in _order_files(root / "raw"))
    assert found == len(records)
    sci = [r for r in records if r["kind"] == "order_id_scientific"]
    assert all(re.fullmatch(r"5\.\d{14}E\+17", r["written_value"]) for r in sci)
    all_rows = pd.concat([_read_orders(p) for p in _order_files(root / "raw")])
    notes = all_rows.drop_duplicates("Order ID").set_index("Order ID")["Seller Note"]
    assert truth["dirt"]["test_orders"] and truth["dirt"]["sample_orders"]
    for t in truth["dirt"]["test_orders"]:
        assert notes.get(t["order_id"]) == "TEST ORDER - do not ship"
        assert t["files"] and all(t["order_id"] in set(_read_orders(root / "raw" / f)["Order ID"]) for f in t["files"])
    for s in truth["dirt"]["sample_orders"]:
        assert notes.get(s["order_id"]) == f"Free sample for creator @{s['creator']}"
    samples = all_rows[all_rows["Seller Note"].str.startswith("Free sample")]
    assert (_money(samples["SKU Subtotal After Discount"]) == 0).all()


def test_affiliate_orders_subset_and_video_gmv_consistent(demo) -> None:
    root, _, _ = demo
    order_ids = set(pd.concat([_read_orders(p)["Order ID"] for p in _order_files(root / "raw")]))
    aff = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted((root / "raw").glob("*/affiliate/*.csv"))])
    assert len(aff) > 0 and set(aff["Order ID"]) <= order_ids
    assert set(aff["Content Type"]) <= {"Video", "LIVE", "Showcase"}
    yes = aff[aff["Fully returned or refunded"] == "Yes"]
    assert (yes["Actual Commission Payment"] == "0.00").all()
    videos = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
                        for p in sorted((root / "raw").glob("*/videos/*.csv"))])
    video_gmv = videos.assign(g=videos["GMV"].str.replace(r"[£฿,]", "", regex=True).astype(float)).groupby("Video ID")["g"].sum()
    aff_v = aff[aff["Content Type"] == "Video"]
    aff_gmv = aff_v.assign(g=aff_v["Payment Amount"].astype(float)).groupby("Content ID")["g"].sum()
    joined = pd.concat([video_gmv.rename("video"), aff_gmv.rename("aff")], axis=1).fillna(0)
    assert np.allclose(joined["video"], joined["aff"], atol=0.005)


def test_ads_totals_row_equals_column_sums(demo) -> None:
    root, _, _ = demo
    files = sorted((root / "raw").glob("*/ads/*.csv"))
    assert files
    for path in files:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        data, total = df.iloc[:-1], df.iloc[-1]
        assert total["By Day"] == f"Total of {len(data)} results"
        cost_col = next(c for c in df.columns if c.startswith("Cost ("))
        for col in [cost_col, "Impressions", "Clicks (destination)", "Conversions", "Video views", "Complete payment",
                    "Complete payment value", "Video views at 100%"]:
            assert abs(data[col].astype(float).sum() - float(total[col])) < 0.005, (path.name, col)


def test_no_truth_only_columns_in_raw(demo) -> None:
    root, _, _ = demo
    for path in sorted((root / "raw").rglob("*")):
        if path.suffix == ".csv":
            header = pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns
        elif path.suffix == ".xlsx":
            book = load_workbook(path, read_only=True)
            # An income statement's rows are on its "Order details" sheet, beside Reports / Reserve / Withdrawal sheets.
            ws = book["Order details"] if "Order details" in book.sheetnames else book.worksheets[0]
            header = [str(c) for row in ws.iter_rows(max_row=3, values_only=True) for c in row if c is not None]
        else:
            continue
        lowered = " ".join(h.lower() for h in header)
        assert not [w for w in FORBIDDEN_HEADER_WORDS if w in lowered], path
        assert "truth" not in path.name.lower()


def _data_rows(path: Path) -> int:
    if path.suffix == ".xlsx":
        book = load_workbook(path, read_only=True)
        # An income statement's rows are on its "Order details" sheet, beside Reports / Reserve / Withdrawal sheets.
        ws = book["Order details"] if "Order details" in book.sheetnames else book.worksheets[0]
        rows = [r for r in ws.iter_rows(values_only=True)]
        skip = 3 if str(rows[0][0]).startswith("Shop:") else 1
        return len(rows) - skip
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    n = len(df)
    if "/orders/" in path.as_posix():
        n -= 1  # description row
    if len(df) and str(df.iloc[-1, 0]).startswith("Total of"):
        n -= 1
    return n


def test_summary_counts_match_files(demo) -> None:
    root, summary, truth = demo
    raw = root / "raw"
    on_disk = sorted(str(p.relative_to(raw)) for p in raw.rglob("*") if p.is_file())
    assert sorted(summary.files) == on_disk
    for rel, n in summary.files.items():
        assert _data_rows(raw / rel) == n, rel
    order_counts = {k: v for k, v in summary.files.items() if "/orders/" in k}
    assert summary.order_lines == sum(order_counts.values())
    rows = pd.concat([_read_orders(p) for p in _order_files(raw)])
    clean = rows[~_malformed(rows)]
    pairs = set(zip(clean["Order ID"], clean["SKU ID"]))
    for r in truth["dirt"]["malformed_rows"]:
        pairs.add((r["order_id"], r["sku_id"]))
    assert len(pairs) == summary.unique_order_lines
    assert len({p[0] for p in pairs}) == summary.orders
    assert summary.skus >= 20 and summary.creators >= 30 and summary.markets == ["UK", "TH"]
    assert summary.to_dict()["end_date"] == "2026-11-18"
    assert summary.start_date == dt.date(2026, 11, 18) - dt.timedelta(days=400)


def test_live_and_shop_health_consistent_with_truth(demo) -> None:
    root, _, truth = demo
    for path in sorted((root / "raw").glob("*/live/*.csv")):
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        gmv = df["Attributed GMV"].str.replace(r"[£฿,]", "", regex=True).astype(float)
        gmv24 = df["24h LIVE GMV"].str.replace(r"[£฿,]", "", regex=True).astype(float)
        assert (gmv24 >= gmv - 1e-9).all()
    for planted in truth["shop_health"]["planted"]:
        path = next((root / "raw" / planted["market"] / "shop_health").glob("*.xlsx"))
        rows = list(load_workbook(path, read_only=True).worksheets[0].iter_rows(values_only=True))
        header = list(rows[2])
        monday = dt.date.fromisoformat(planted["week_start"]).strftime("%d/%m/%Y")
        row = next(r for r in rows[3:] if r[0].startswith(monday))
        label = {"late_dispatch_rate": "Late Dispatch Rate", "valid_tracking_rate": "Valid Tracking Rate",
                 "response_rate_12h": "12h Response Rate"}[planted["metric"]]
        assert row[header.index(label)] == f"{planted['true_rate'] * 100:.2f}%"


def _latest_orders(raw: Path, market: str) -> pd.DataFrame:
    """One row per order in its newest exported state (files are named by download time)."""
    frames = [_read_orders(p).assign(_file=p.name) for p in sorted((raw / market / "orders").glob("*.csv"))]
    rows = pd.concat(frames)
    rows = rows[~_malformed(rows)]
    return rows.sort_values("_file", kind="stable").drop_duplicates("Order ID", keep="last")


def test_planted_shop_health_breaches_recomputed_from_orders(demo) -> None:
    root, _, truth = demo
    planted = {(p["market"], p["metric"]): p for p in truth["shop_health"]["planted"]}
    fmt = "%d/%m/%Y %H:%M:%S"
    th = _latest_orders(root / "raw", "TH")
    th = th[(th["Seller Note"] == "") & (th["Paid Time"] != "")]
    ldr = planted[("TH", "late_dispatch_rate")]
    monday = pd.Timestamp(ldr["week_start"])
    paid = pd.to_datetime(th["Paid Time"], format=fmt)
    week = th[(paid >= monday) & (paid < monday + pd.Timedelta(days=7)) & (th["Order Status"] != "Canceled")]
    paid_days = pd.to_datetime(week["Paid Time"], format=fmt).dt.normalize().to_numpy().astype("datetime64[D]")
    deadline = np.busday_offset(paid_days, 2, roll="forward").astype("datetime64[ns]") + np.timedelta64(1, "D")
    rts = pd.to_datetime(week["RTS Time"], format=fmt).to_numpy()
    late = (rts >= deadline).sum()
    assert late == ldr["numerator"] and len(week) == ldr["denominator"]
    assert ldr["true_rate"] > 0.04
    uk = _latest_orders(root / "raw", "UK")
    uk = uk[(uk["Seller Note"] == "") & (uk["Shipped Time"] != "")]
    vtr = planted[("UK", "valid_tracking_rate")]
    monday = pd.Timestamp(vtr["week_start"])
    shipped = pd.to_datetime(uk["Shipped Time"], format=fmt)
    week = uk[(shipped >= monday) & (shipped < monday + pd.Timedelta(days=7))]
    assert (week["Tracking ID"] != "").sum() == vtr["numerator"] and len(week) == vtr["denominator"]
    assert vtr["true_rate"] < 0.95


def test_planned_volume_at_full_scale() -> None:
    assert planned_order_lines(1.0) >= 300_000
