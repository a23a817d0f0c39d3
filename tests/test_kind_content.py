"""Content-side kinds: Video Data, LIVE sessions, the tagging sheet, follower snapshots, comments, video stats."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from shopkpi import paths
from shopkpi.ingest.headers import detect_kind
from shopkpi.ingest.kinds.video_data import create_videos_view, videos_by_video
from shopkpi.ingest.pipeline import ingest, row_accounting
from shopkpi.ingest.readers import read_any
from shopkpi.params import load_client_params
from shopkpi.store import Store

from conftest import DEMO_TEST_SCALE, FIXTURES, copy_fixture, make_workspace, workspace_env

CONTENT_FOLDERS = {"videos": "video_data", "live": "live_sessions"}
SHARED_FILES = {"content/content_tagging.xlsx": "content_tags",
                "creators/creator_follower_snapshots.csv": "creator_snapshots",
                "creators/video_comments_sample.csv": "video_comments"}
TABLES = {"video_data": "video_products", "live_sessions": "live_sessions", "content_tags": "content_tags",
          "creator_snapshots": "creator_snapshots", "video_comments": "video_comments"}
TIMEZONES = {"UK": "Europe/London", "TH": "Asia/Bangkok"}


def _ingest(client, *files, market=None):
    return ingest(client, load_client_params(client), [Path(f) for f in files], market_hint=market)


# -- independent parsers of the raw text (pandas / plain Python), to check the importers against --

def count_of(text: str) -> int | None:
    text = text.strip().replace(",", "")
    if not text:
        return None
    scale = {"K": 1_000, "M": 1_000_000, "B": 1_000_000_000}.get(text[-1].upper())
    return round(float(text[:-1]) * scale) if scale else int(text)


def money_of(text: str) -> Decimal:
    return Decimal(re.sub(r"[^0-9.\-]", "", text))


def seconds_of(text: str) -> float:
    if ":" in text:
        parts = [float(p) for p in text.split(":")]
        return sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    found = {unit: number for number, unit in re.findall(r"([0-9.]+)([hms])", text)}
    return float(found.get("h", 0)) * 3600 + float(found.get("m", 0)) * 60 + float(found.get("s", 0))


def utc_of(text: str, market: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_localize(TIMEZONES[market]).tz_convert("UTC")


def tag_of(value) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or not str(value).strip():
        return None
    return " ".join(str(value).split()).lower()


def stored(table: str, client: str = "demo") -> pd.DataFrame:
    return Store(client).read(table).to_pandas()


# -- the demo client's content files, generated once for this module --------------------------------

@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from shopkpi.demo import generate_demo_client

    root = make_workspace(tmp_path_factory.mktemp("content_ws"))
    with workspace_env(str(root)):
        generate_demo_client(paths.client_data_dir("demo"), seed=7, scale=DEMO_TEST_SCALE)
        raw = paths.raw_dir("demo")
        files = sorted(p for folder in CONTENT_FOLDERS for p in raw.glob(f"*/{folder}/*.csv"))
        files += [raw / name for name in SHARED_FILES]
        report = ingest("demo", load_client_params("demo"), files)
        yield {"raw": raw, "files": files, "report": report}


def _expected_kind(raw: Path, path: Path) -> str:
    relative = path.relative_to(raw).as_posix()
    return SHARED_FILES.get(relative) or CONTENT_FOLDERS[path.parent.name]


def test_demo_files_are_detected_by_headers_and_every_row_is_accounted(demo):
    results = {f.source_file: f for f in demo["report"].files}
    assert len(results) == len(demo["files"])
    for path in demo["files"]:
        result = results[path.relative_to(demo["raw"]).as_posix()]
        assert result.status == "ingested", result.message
        assert result.kind == _expected_kind(demo["raw"], path)
        # Detection depends on the headers alone, not on the file or folder name.
        assert detect_kind(read_any(path).headers).kind == result.kind
    accounting = row_accounting("demo").to_pylist()
    assert len(accounting) == len(demo["files"])
    assert all(r["unaccounted"] == 0 for r in accounting)
    for kind, table in TABLES.items():
        assert Store("demo").read(table).num_rows > 0, kind


def test_demo_video_rows_match_the_raw_text(demo):
    videos = stored("video_products")
    checked = 0
    for path in sorted(demo["raw"].glob("*/videos/*.csv")):
        market = path.parts[-3]
        source = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        source["source_row"] = range(2, len(source) + 2)
        ours = videos[videos["source_file"] == path.relative_to(demo["raw"]).as_posix()]
        both = ours.merge(source, on="source_row")
        assert len(both) == len(source)
        for _, row in both.iterrows():
            assert row["video_id"] == row["Video ID"] and row["product_id"] == row["Product ID"]
            assert row["market"] == market and row["currency"] == {"UK": "GBP", "TH": "THB"}[market]
            assert row["gmv"] == money_of(row["GMV"])
            for ours_name, header in [("views", "Views"), ("likes", "Likes"), ("comments", "Comments"),
                                      ("shares", "Shares"), ("saves", "Saves"), ("orders", "Orders")]:
                assert row[ours_name] == count_of(row[header]), (header, row[header])
            assert row["duration_s"] == seconds_of(row["Duration"])
            assert row["avg_watch_time_s"] == pytest.approx(float(row["Avg. watch time"].rstrip("s")))
            assert row["completion_rate"] == pytest.approx(float(row["Watched full video (%)"].rstrip("%")) / 100)
            assert row["posted_at"] == utc_of(row["Post time"], market)
            assert row["posted_local_time"] == pd.Timestamp(row["Post time"])
            rounded = [row[h] for h in ("Views", "Likes", "Comments", "Shares", "Saves") if row[h].endswith(("K", "M"))]
            assert row["counts_rounded"] == bool(rounded)
            checked += 1
    assert checked == len(videos)


def test_videos_by_video_sums_sales_but_counts_views_once(demo):
    frames = []
    for path in sorted(demo["raw"].glob("*/videos/*.csv")):
        frames.append(pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig"))
    source = pd.concat(frames)
    source["gmv"] = source["GMV"].map(money_of)
    source["views"] = source["Views"].map(count_of)
    expected = source.groupby("Video ID").agg(gmv=("gmv", "sum"), views=("views", "first"), products=("Product ID", "size"))
    assert (expected["products"] > 1).any(), "the demo should have multi-product videos"

    con = Store("demo").connect()
    per_video = videos_by_video(con).to_pandas().set_index("video_id")
    assert per_video.index.is_unique and set(per_video.index) == set(expected.index)
    assert (per_video["gmv"] == expected["gmv"].reindex(per_video.index)).all()
    assert (per_video["views"] == expected["views"].reindex(per_video.index)).all()
    assert (per_video["products"] == expected["products"].reindex(per_video.index)).all()
    # Summing the product rows would count a two-product video's views twice.
    assert per_video["views"].sum() < source["views"].sum()
    create_videos_view(con)
    assert con.execute("SELECT count(*) FROM videos").fetchone()[0] == len(expected)


def test_demo_live_rows_match_the_raw_text(demo):
    sessions = stored("live_sessions").set_index("live_id")
    for path in sorted(demo["raw"].glob("*/live/*.csv")):
        market = path.parts[-3]
        source = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        for _, raw in source.iterrows():
            row = sessions.loc[raw["LIVE ID"]]
            assert row["gmv"] == money_of(raw["Attributed GMV"])
            assert row["gmv_24h"] == money_of(raw["24h LIVE GMV"])
            assert row["duration_s"] == seconds_of(raw["Duration"])
            assert row["avg_view_duration_s"] == seconds_of(raw["Avg. viewing duration per viewer"])
            assert row["started_at"] == utc_of(raw["Start time"], market)
            assert row["ended_at"] == row["started_at"] + pd.Timedelta(seconds=row["duration_s"])
            assert row["ctor"] == pytest.approx(float(raw["CTOR"].rstrip("%")) / 100)
    # The 24h figure includes the attributed one (and refunds): it is never folded into gmv.
    assert (sessions["gmv_24h"] >= sessions["gmv"]).all()


def test_demo_tags_are_normalised_like_the_sheet_says(demo):
    source = pd.read_excel(demo["raw"] / "content/content_tagging.xlsx", dtype=str)
    tags = stored("content_tags").set_index("video_id")
    assert len(tags) == len(source)
    for header, column in [("Hook type", "hook_type"), ("Script structure", "script_structure"), ("BGM/sound", "sound"),
                           ("Format", "format"), ("Presenter", "presenter"), ("Language", "language")]:
        expected = source.set_index("Video ID")[header].map(tag_of)
        ours = tags[column].reindex(expected.index).where(tags[column].notna(), None)
        assert ours.tolist() == expected.tolist(), header
    assert tags["hook_type"].dropna().str.fullmatch(r"[a-z-]+").all()
    experiments = source.dropna(subset=["Experiment"]).set_index("Video ID")["Experiment"]
    assert len(experiments) > 0
    for video_id, text in experiments.items():
        name, variant = text.split(":")
        assert (tags.loc[video_id, "experiment_id"], tags.loc[video_id, "experiment_variant"]) == (name, variant)


def test_demo_snapshots_and_comments_match_the_raw_text(demo):
    source = pd.read_csv(demo["raw"] / "creators/creator_follower_snapshots.csv", dtype=str, keep_default_na=False)
    snaps = stored("creator_snapshots")
    both = snaps.merge(source.assign(source_row=range(2, len(source) + 2)), on="source_row")
    assert len(both) == len(source)
    assert (both["creator"] == both["Creator username"]).all() and (both["market"] == both["Market"]).all()
    assert (both["followers"] == both["Followers"].astype(int)).all()
    assert (both["snapshot_date"].astype(str) == both["Snapshot date"]).all()

    comments_raw = pd.read_csv(demo["raw"] / "creators/video_comments_sample.csv", dtype=str, keep_default_na=False,
                               encoding="utf-8-sig")
    comments = stored("video_comments").sort_values("source_row")
    assert len(comments) == len(comments_raw)
    assert comments["comment_text"].fillna("").tolist() == comments_raw["Comment"].str.strip().tolist()
    assert (comments.groupby("video_id")["comment_no"].apply(lambda s: list(s) == list(range(1, len(s) + 1)))).all()


def test_reingesting_the_demo_files_changes_nothing(demo):
    before = Store("demo").manifest()["version"]
    again = ingest("demo", load_client_params("demo"), demo["files"])
    assert {f.status for f in again.files} == {"already_ingested"}
    assert Store("demo").manifest()["version"] == before


# -- small hand-made files ------------------------------------------------------------------------

def _rewrite(src: Path, dest: Path, edit) -> Path:
    rows = edit(list(csv.reader(open(src, encoding="utf-8", newline=""))))
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(buffer.getvalue(), encoding="utf-8")
    return dest


def test_video_data_values_quarantine_and_file_name_blind_detection(workspace):
    file = copy_fixture("video_data_uk_small.csv", workspace / "in")
    renamed = file.rename(file.with_name("export (3).csv"))
    [result] = _ingest("demo", renamed).files
    assert (result.kind, result.rows_in, result.rows_kept, result.rows_quarantined, result.rows_excluded) == \
        ("video_data", 7, 3, 3, 1)
    quarantine = {(r["source_row"], r["column"]): r for r in Store("demo").read("quarantine").to_pylist()}
    assert set(quarantine) == {(5, "Views"), (6, "Video ID"), (7, "Post time")}
    assert quarantine[(5, "Views")]["raw_value"] == "lots"
    assert "Excel" in quarantine[(6, "Video ID")]["reason"]
    assert quarantine[(7, "Post time")]["source_file"] .endswith("/export (3).csv")
    assert [(e["source_row"], e["rule"]) for e in Store("demo").read("excluded").to_pylist()] == [(8, "blank_row")]

    rows = stored("video_products").set_index(["video_id", "product_id"])
    whisk = rows.loc[("7424000000000000001", "1729163256881309667")]
    assert whisk["gmv"] == Decimal("1205.33") and whisk["views"] == 12_300 and whisk["likes"] == 1_100
    assert whisk["duration_s"] == 24 and whisk["avg_watch_time_s"] == pytest.approx(8.2)
    assert whisk["completion_rate"] == pytest.approx(0.2341) and whisk["counts_rounded"]
    assert whisk["posted_at"] == pd.Timestamp("2026-01-30 18:52", tz="UTC")  # GMT in winter
    summer = rows.loc[("7424000000000000002", "1729203503948302008")]
    assert summer["posted_at"] == pd.Timestamp("2026-07-01 19:11", tz="UTC")  # BST: local 20:11
    assert str(summer["posted_local_date"]) == "2026-07-01" and summer["creator"] == "chloe.style"
    assert rows["market"].unique().tolist() == ["UK"] and rows["currency"].unique().tolist() == ["GBP"]

    per_video = videos_by_video(Store("demo").connect()).to_pandas().set_index("video_id")
    assert per_video.loc["7424000000000000001", "views"] == 12_300  # not 24,600
    assert per_video.loc["7424000000000000001", "gmv"] == Decimal("1205.33")
    assert per_video.loc["7424000000000000001", "product_clicks"] == 60
    assert per_video.loc["7424000000000000001", "ctr"] == pytest.approx(60 / 1354)


def test_video_data_newer_overlapping_export_wins(workspace):
    old = copy_fixture("video_data_uk_small.csv", workspace / "in")

    def grown(rows):
        header = rows[0]
        views = header.index("Views")
        kept = [r for r in rows[1:4]]
        for row in kept:
            if row[0] == "7424000000000000001":
                row[views] = "15.0K"
        later = list(kept[2])
        later[0], later[4], later[2] = "7424000000000000009", "2026-08-02 09:00", later[2].replace("2", "9")
        return [header, *kept, later]

    new = _rewrite(old, workspace / "in2" / "Video Data later.csv", grown)
    _ingest("demo", old)
    _ingest("demo", new)
    rows = stored("video_products")
    assert len(rows) == 4 and rows[["video_id", "product_id"]].drop_duplicates().shape[0] == 4
    whisk = rows[rows["video_id"] == "7424000000000000001"]
    assert (whisk["views"] == 15_000).all() and whisk["source_file"].str.endswith("Video Data later.csv").all()
    rules = [e["rule"] for e in Store("demo").read("excluded").to_pylist()]
    assert rules.count("superseded_by_newer_export") == 3
    assert all(r["unaccounted"] == 0 for r in row_accounting("demo").to_pylist())


def test_video_data_market_comes_from_the_currency_or_the_market_option(workspace):
    def no_symbols(rows):
        gmv = rows[0].index("GMV")
        return [rows[0]] + [r[:gmv] + [re.sub(r"[£,]", "", r[gmv])] + r[gmv + 1:] for r in rows[1:4]]

    plain = _rewrite(FIXTURES / "video_data_uk_small.csv", workspace / "in" / "plain.csv", no_symbols)
    [result] = _ingest("demo", plain).files
    assert result.rows_quarantined == 3
    assert {q["reason"] for q in Store("demo").read("quarantine").to_pylist()} == {
        "cannot tell the market: no currency symbol in the money cells and the client has several markets; "
        "pass --market CODE"}
    [result] = _ingest("acme", plain, market="TH").files
    rows = stored("video_products", "acme")
    assert result.rows_kept == 3 and set(rows["currency"]) == {"THB"}
    assert rows.loc[rows["video_id"] == "7424000000000000002", "posted_at"].iloc[0] == pd.Timestamp("2026-07-01 13:11", tz="UTC")


def test_live_sessions_values_and_quarantine(workspace):
    [result] = _ingest("demo", copy_fixture("live_sessions_th_small.csv", workspace / "in")).files
    assert (result.kind, result.rows_kept, result.rows_quarantined) == ("live_sessions", 2, 2)
    quarantine = {(r["source_row"], r["column"]): r["reason"] for r in Store("demo").read("quarantine").to_pylist()}
    assert set(quarantine) == {(4, "Duration"), (5, "Attributed GMV")}
    assert "currency" in quarantine[(5, "Attributed GMV")]
    live = stored("live_sessions").set_index("live_id").loc["7527378758383841784"]
    assert live["duration_s"] == 2 * 3600 + 13 * 60 + 5 and live["avg_view_duration_s"] == 88
    assert live["gmv"] == Decimal("20513.00") and live["gmv_24h"] == Decimal("23138.00")
    assert live["currency"] == "THB" and live["market"] == "TH"
    assert live["started_at"] == pd.Timestamp("2026-08-27 13:30", tz="UTC")  # 20:30 in Bangkok
    assert live["ended_at"] == pd.Timestamp("2026-08-27 15:43:05", tz="UTC")
    assert live["ctr"] == pytest.approx(0.0865) and live["viewers"] == 1256


def test_live_sessions_newer_export_wins_and_reingest_changes_nothing(workspace):
    old = copy_fixture("live_sessions_th_small.csv", workspace / "in")

    def later(rows):
        rows = [rows[0], rows[1], rows[2]]
        rows[1][rows[0].index("24h LIVE GMV")] = "฿24,000.00"
        extra = list(rows[2])
        extra[1], extra[3] = "7527400000000000000", "2026-09-01 20:00"
        return rows + [extra]

    new = _rewrite(old, workspace / "in" / "LIVE later.csv", later)
    _ingest("demo", old)
    version = Store("demo").manifest()["version"]
    assert _ingest("demo", old).files[0].status == "already_ingested"
    assert Store("demo").manifest()["version"] == version
    _ingest("demo", new)
    sessions = stored("live_sessions").set_index("live_id")
    assert len(sessions) == 3 and sessions.loc["7527378758383841784", "gmv_24h"] == Decimal("24000.00")
    assert sessions.loc["7527378758383841784", "gmv"] == Decimal("20513.00")


def _tag_sheet(path: Path, rows: list[list], saved: dt.datetime) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Tags"
    sheet.append(["Video ID", "Hook type", "Script structure", "BGM/sound", "Format", "Presenter", "Language",
                  "Experiment", "Tagged by"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    # openpyxl stamps the save time; set it so "which sheet is newer" is under the test's control.
    stamp = saved.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rb"\g<1>" + stamp.encode() + rb"\g<2>", data)
            dst.writestr(item, data)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue())
    return path


TAG_ROWS = [
    ["7424000000000000001", "Question ", "REVIEW", " Original", "Talking-Head", "creator", "En", "cover-test-03:A", "PS"],
    ["7424000000000000002", "QUESTION", "problem  solution", None, "hands-only", None, "th", " cover-test-03 : b ", "NW"],
    ["7424000000000000003", "question", "list", "trending", "slideshow", "creator", "en", "cover-test-03", "JT"],
    [7.424e18, "none", "list", "trending", "slideshow", "creator", "en", None, "AL"],
    ["7424000000000000005", "   ", "demo", "original", "before-after", "brand-staff", "en", None, "MK"],
]


def test_content_tags_are_normalised_and_bad_cells_quarantined(workspace):
    sheet = _tag_sheet(workspace / "in" / "tags.xlsx", TAG_ROWS, dt.datetime(2026, 3, 1, 9, 0))
    [result] = _ingest("demo", sheet).files
    assert (result.kind, result.rows_kept, result.rows_quarantined) == ("content_tags", 3, 2)
    quarantine = {(r["source_row"], r["column"]): r["raw_value"] for r in Store("demo").read("quarantine").to_pylist()}
    assert quarantine == {(4, "Experiment"): "cover-test-03", (5, "Video ID"): "7.424e+18"}
    tags = stored("content_tags").set_index("video_id")
    assert [None if pd.isna(v) else v for v in tags["hook_type"]] == ["question", "question", None]
    assert tags.loc["7424000000000000002", "script_structure"] == "problem solution"
    assert tags.loc["7424000000000000001", ["sound", "format", "language"]].tolist() == ["original", "talking-head", "en"]
    assert pd.isna(tags.loc["7424000000000000002", "sound"]) and pd.isna(tags.loc["7424000000000000002", "presenter"])
    assert tags.loc["7424000000000000001", ["experiment_id", "experiment_variant"]].tolist() == ["cover-test-03", "A"]
    assert tags.loc["7424000000000000002", ["experiment_id", "experiment_variant"]].tolist() == ["cover-test-03", "B"]
    assert tags["export_as_of"].iloc[0] == pd.Timestamp("2026-03-01 09:00", tz="UTC")


def test_content_tags_a_later_saved_sheet_wins(workspace):
    first = _tag_sheet(workspace / "in" / "a" / "content_tagging.xlsx", TAG_ROWS[:2], dt.datetime(2026, 3, 1, 9, 0))
    retagged = [list(TAG_ROWS[0]), list(TAG_ROWS[1])]
    retagged[0][1] = "price-shock"
    second = _tag_sheet(workspace / "in" / "b" / "content_tagging.xlsx", retagged, dt.datetime(2026, 4, 1, 9, 0))
    _ingest("demo", second)
    _ingest("demo", first)  # an older copy ingested afterwards must not undo the retagging
    tags = stored("content_tags").set_index("video_id")
    assert len(tags) == 2 and tags.loc["7424000000000000001", "hook_type"] == "price-shock"


def test_creator_snapshots_values_dedupe_and_quarantine(workspace):
    file = workspace / "in" / "followers.csv"
    file.parent.mkdir(parents=True)
    file.write_text("Snapshot date,Creator username,Market,Followers,Total likes\n"
                    "2026-02-24,@katie_style24,UK,14251,258119\n"
                    "2026-02-24,janereview,TH,30.9K,465479\n"
                    "2026-07-07,katie_style24,United Kingdom,15000,260000\n"
                    "2026-07-07,katie_style24,UK,15001,260001\n"
                    "2026-07-07,nobody,Narnia,10,20\n"
                    "2026-02-30,janereview,TH,31000,470000\n", encoding="utf-8")
    [result] = _ingest("demo", file).files
    assert (result.kind, result.rows_in, result.rows_kept, result.rows_quarantined, result.rows_excluded) == \
        ("creator_snapshots", 6, 3, 2, 1)
    quarantine = {(r["source_row"], r["column"]) for r in Store("demo").read("quarantine").to_pylist()}
    assert quarantine == {(6, "Market"), (7, "Snapshot date")}
    [duplicate] = Store("demo").read("excluded").to_pylist()
    assert (duplicate["source_row"], duplicate["rule"]) == (5, "duplicate_within_file")
    snaps = stored("creator_snapshots").set_index(["creator", "snapshot_date"])
    assert snaps.loc[("katie_style24", dt.date(2026, 2, 24)), "followers"] == 14251
    assert snaps.loc[("janereview", dt.date(2026, 2, 24)), "followers"] == 30_900
    assert snaps.loc[("katie_style24", dt.date(2026, 7, 7)), "market"] == "UK"


def test_comments_are_numbered_per_video_and_commenters_never_stored(workspace):
    [result] = _ingest("demo", copy_fixture("video_comments_small.csv", workspace / "in")).files
    assert (result.kind, result.rows_kept, result.rows_quarantined) == ("video_comments", 4, 2)
    quarantine = {(r["source_row"], r["column"]) for r in Store("demo").read("quarantine").to_pylist()}
    assert quarantine == {(6, "Video ID"), (7, "Comment time")}
    comments = stored("video_comments").sort_values(["video_id", "comment_no"])
    assert comments[["video_id", "comment_no", "source_row"]].values.tolist() == [
        ["7424000000000000001", 1, 2], ["7424000000000000001", 2, 3], ["7424000000000000001", 3, 5],
        ["7424000000000000002", 1, 4]]
    assert comments["comment_text"].tolist()[0] == "What size is it?" and pd.isna(comments["comment_text"].tolist()[1])
    assert comments["comment_local_time"].tolist()[0] == pd.Timestamp("2026-01-30 19:02")
    assert comments["commented_at"].isna().all()  # two markets, no --market: the zone is not known
    assert "commenter" not in comments.columns
    blob = " ".join(str(pq.read_table(p).to_pylist()) for p in paths.store_dir("demo").rglob("*.parquet"))
    for name in ["jane_d", "bob.smith", "alice_w", "dan_p"]:
        assert name not in blob


def test_comments_get_utc_times_when_the_market_is_given(workspace):
    _ingest("demo", copy_fixture("video_comments_small.csv", workspace / "in"), market="TH")
    comments = stored("video_comments").sort_values("source_row")
    assert comments["market"].unique().tolist() == ["TH"]
    assert comments["commented_at"].iloc[0] == pd.Timestamp("2026-01-30 12:02", tz="UTC")


VN_LAYOUT = ("user_name,user_nfollower,vid_id,vid_caption,vid_postTime,vid_scrapeTime,vid_duration,vid_nview,vid_nlike,"
             "vid_ncomment,vid_nshare,vid_nsave,vid_hashtags,vid_url,music_id,music_title,music_nused,music_authorName,"
             "music_originality\n")
US_LAYOUT = ("id,create_time,user_name,hashtags,song,video_length,n_likes,n_shares,n_comments,n_plays,n_followers,"
             "n_total_likes,n_total_vids,source_file\n")


def test_video_stats_both_scraped_layouts(workspace):
    vn = workspace / "in" / "vn.csv"
    vn.parent.mkdir(parents=True)
    vn.write_text(VN_LAYOUT +
                  'shop.a,17.4K,7507991840340135186,Hello,2025-05-24 12:42:52,2025-05-29 15:39:47,01:05,1.4M,27.7K,448,'
                  '10.2K,5047,"SucKhoe, thaomoc",https://x/1,7.507991997681192e+18,nhạc nền,32.5K videos,A,True\n'
                  'shop.b,,7507991840340135187,,2025-05-25 08:00:00,2025-05-29 15:40:00,00:16,541.2K,12,0,Share,3,,'
                  'https://x/2,,,,,\n', encoding="utf-8")
    us = workspace / "in" / "us.csv"
    us.write_text(US_LAYOUT + "6892505037482822918,1604786417,charlidamelio,\"['fyp', 'Comedy']\",original sound,15,"
                  "480800,9256,51300,1900000,97400000,7600000000,1642,top_users_vids.csv\n", encoding="utf-8")
    report = _ingest("demo", vn, us)
    assert [(f.kind, f.rows_kept, f.rows_quarantined) for f in report.files] == [("video_stats", 1, 1), ("video_stats", 1, 0)]
    [bad] = Store("demo").read("quarantine").to_pylist()
    assert (bad["source_row"], bad["column"], bad["raw_value"]) == (3, "vid_nshare", "Share")
    rows = stored("video_stats").set_index("video_id")
    a = rows.loc["7507991840340135186"]
    assert (a["views"], a["likes"], a["shares"], a["creator_followers"], a["sound_uses"]) == (1_400_000, 27_700, 10_200, 17_400, 32_500)
    assert a["duration_s"] == 65 and list(a["hashtags"]) == ["suckhoe", "thaomoc"] and a["sound_is_original"]
    assert a["music_id"] == "7.507991997681192e+18"  # kept as the (mangled) text
    assert a["time_zone"] == "unknown" and pd.isna(a["posted_at"]) and pd.isna(a["market"])
    assert a["posted_local_time"] == pd.Timestamp("2025-05-24 12:42:52") and a["snapshot"] == "2025-05-29 15:39:47"
    b = rows.loc["6892505037482822918"]
    assert (b["views"], b["creator_total_likes"], b["duration_s"]) == (1_900_000, 7_600_000_000, 15)
    assert list(b["hashtags"]) == ["fyp", "comedy"] and b["crawl_list"] == "top_users_vids.csv"
    assert b["posted_at"] == pd.Timestamp(1604786417, unit="s", tz="UTC") and b["time_zone"] == "UTC"
    assert b["snapshot"] == "undated" and not b["counts_rounded"]


def test_video_stats_recrawl_is_a_second_observation_and_market_option_sets_the_zone(workspace):
    first = workspace / "in" / "crawl1.csv"
    first.parent.mkdir(parents=True)
    row = ('shop.a,17.4K,7507991840340135186,Hi,2025-05-24 12:42:52,{scraped},01:05,{views},1K,4,5,6,,u,,,,,\n')
    first.write_text(VN_LAYOUT + row.format(scraped="2025-05-29 15:39:47", views="1.4M"), encoding="utf-8")
    second = workspace / "in" / "crawl2.csv"
    second.write_text(VN_LAYOUT + row.format(scraped="2025-06-06 10:17:03", views="2.1M"), encoding="utf-8")
    _ingest("acme", first, second, market="TH")
    rows = stored("video_stats", "acme").sort_values("snapshot")
    assert rows["views"].tolist() == [1_400_000, 2_100_000] and rows["video_id"].nunique() == 1
    assert set(rows["time_zone"]) == {"Asia/Bangkok"} and set(rows["market"]) == {"TH"}
    assert rows["posted_at"].iloc[0] == pd.Timestamp("2025-05-24 05:42:52", tz="UTC")
    assert rows["scraped_at"].iloc[1] == pd.Timestamp("2025-06-06 03:17:03", tz="UTC")
