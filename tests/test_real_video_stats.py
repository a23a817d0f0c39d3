"""The generic video_stats importer on two real scraped TikTok datasets (Vietnam 2025 with a recrawl, US 2020)."""

from __future__ import annotations

import ast
import os
import re

import numpy as np
import pandas as pd
import pytest

from shopkpi.ingest.importers import importer_for
from shopkpi.ingest.pipeline import ingest, row_accounting
from shopkpi.params import load_client_params
from shopkpi.store import Store

from conftest import make_workspace, SHARED_REAL, workspace_env

pytestmark = pytest.mark.realdata
VN = SHARED_REAL / "tiktok_vn_2025" / "videos.csv.gz"
VN_RECRAWL = SHARED_REAL / "tiktok_vn_2025" / "videos_recrawl.csv.gz"
US = SHARED_REAL / "tiktok_us_2020" / "videos.csv.gz"

for _file in (VN, VN_RECRAWL, US):
    if not _file.exists():
        if os.environ.get("CI"):
            raise RuntimeError(f"CI must run the real-data tests: {_file} is missing")
        pytest.skip(f"real data not found at {_file} (../shared is absent in a user's own clone)", allow_module_level=True)

VN_COUNTS = {"vid_nview": "views", "vid_nlike": "likes", "vid_ncomment": "comments", "vid_nshare": "shares",
             "vid_nsave": "saves", "user_nfollower": "creator_followers"}
US_COUNTS = {"n_plays": "views", "n_likes": "likes", "n_comments": "comments", "n_shares": "shares",
             "n_followers": "creator_followers", "n_total_likes": "creator_total_likes", "n_total_vids": "creator_total_videos"}
_COUNT = re.compile(r"^([0-9]+(?:\.[0-9]+)?)([KM]?)$")


def count_of(text: str):
    """The source's count text ("541.2K", "1.5M", "1991") as an integer; None for empty, NaN for non-counts."""
    if text == "":
        return None
    found = _COUNT.match(text.replace(",", ""))
    if not found:
        return np.nan
    return round(float(found.group(1)) * {"": 1, "K": 1_000, "M": 1_000_000}[found.group(2)])


@pytest.fixture(scope="module")
def real_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("video_stats_ws")
    make_workspace(root, clients=("scraped",))
    with workspace_env(str(root)):
        report = ingest("scraped", load_client_params("scraped"), [VN, VN_RECRAWL, US])
        stats = Store("scraped").read("video_stats").to_pandas()
        files = Store("scraped").read("files").to_pandas()
        yield {"report": report, "stats": stats, "files": files,
               "quarantine": Store("scraped").read("quarantine").to_pandas(),
               "accounting": row_accounting("scraped").to_pandas()}


@pytest.fixture(scope="module")
def sources():
    return {name: pd.read_csv(path, dtype=str, keep_default_na=False).assign(source_row=lambda d: range(2, len(d) + 2))
            for name, path in (("vn", VN), ("vn_recrawl", VN_RECRAWL), ("us", US))}


def _rows_of(real_store, position: int) -> pd.DataFrame:
    """Stored rows of the n-th ingested file (VN and US share the name videos.csv.gz; file_id tells them apart)."""
    file_id = real_store["files"]["file_id"].iloc[position]
    return real_store["stats"][real_store["stats"]["file_id"] == file_id]


def _unparseable(source: pd.DataFrame, columns) -> pd.Series:
    bad = pd.Series(False, index=source.index)
    for column in columns:
        bad |= source[column].map(lambda t: isinstance(count_of(t), float))
    return bad


def test_detected_by_headers_and_every_row_accounted(real_store, sources):
    results = real_store["report"].files
    assert [(f.status, f.kind) for f in results] == [("ingested", "video_stats")] * 3, [f.message for f in results]
    expected_rows = [6_074, 1_397, 30_942]
    assert [f.rows_in for f in results] == expected_rows == [len(sources[k]) for k in ("vn", "vn_recrawl", "us")]
    accounting = real_store["accounting"]
    assert (accounting["unaccounted"] == 0).all()
    assert int(accounting["in_store"].sum() + accounting["quarantined"].sum() + accounting["excluded"].sum()) == sum(expected_rows)
    # Exactly the rows whose count text is not a count ("Share", the button label, once in the recrawl).
    for result, key, columns in zip(results, ("vn", "vn_recrawl", "us"), (VN_COUNTS, VN_COUNTS, US_COUNTS)):
        assert result.rows_quarantined == int(_unparseable(sources[key], columns).sum()), key
        assert result.rows_excluded == 0
    assert real_store["quarantine"][["column", "raw_value"]].values.tolist() == [["vid_nshare", "Share"]]


@pytest.mark.parametrize("position, key, counts", [(0, "vn", VN_COUNTS), (1, "vn_recrawl", VN_COUNTS), (2, "us", US_COUNTS)])
def test_counts_match_pandas_on_the_raw_text(real_store, sources, position, key, counts):
    ours = _rows_of(real_store, position)
    both = ours.merge(sources[key], on="source_row", validate="one_to_one")
    assert len(both) == len(ours) == len(sources[key]) - int(_unparseable(sources[key], counts).sum())
    id_column = "vid_id" if key.startswith("vn") else "id"
    assert (both["video_id"] == both[id_column]).all()
    for raw, column in counts.items():
        expected = both[raw].map(count_of)
        assert both[column].isna().equals(expected.isna()), raw
        present = expected.notna()
        assert (both.loc[present, column].astype("int64") == expected[present].astype("int64")).all(), raw
    if key.startswith("vn"):
        assert both["vid_nview"].str.endswith(("K", "M")).any()  # abbreviated counts were really exercised
        assert (both["counts_rounded"] == both[["vid_nview", "vid_nlike", "vid_ncomment", "vid_nshare", "vid_nsave"]]
                .apply(lambda c: c.str.endswith(("K", "M"))).any(axis=1)).all()


def test_vn_durations_times_hashtags_and_music_ids(real_store, sources):
    both = _rows_of(real_store, 0).merge(sources["vn"], on="source_row")
    minutes_seconds = both["vid_duration"].str.split(":", expand=True).astype(int)
    assert (both["duration_s"] == minutes_seconds[0] * 60 + minutes_seconds[1]).all()
    # The source documents no time zone: wall clock kept as written, no UTC instant invented.
    assert (both["posted_local_time"] == pd.to_datetime(both["vid_postTime"])).all()
    assert (both["scraped_local_time"] == pd.to_datetime(both["vid_scrapeTime"])).all()
    assert both["posted_at"].isna().all() and both["scraped_at"].isna().all()
    assert set(both["time_zone"]) == {"unknown"} and both["market"].isna().all()
    expected_tags = both["vid_hashtags"].map(lambda t: [h.strip().lower() for h in t.split(",") if h.strip()])
    assert [list(h) for h in both["hashtags"]] == expected_tags.tolist()
    # music_id was float-mangled upstream: the text is kept verbatim and is not part of the key.
    assert (both["music_id_x"].fillna("") == both["music_id_y"]).all()
    assert both["music_id_x"].dropna().str.contains("e+", regex=False).all()
    assert "music_id" not in importer_for("video_stats").key
    counts = both["music_nused"].str.removesuffix(" videos").str.removesuffix(" video").map(count_of)
    assert (both["sound_uses"].fillna(-1).astype("int64") == counts.fillna(-1).astype("int64")).all()


def test_us_unix_times_seconds_lengths_and_list_literal_hashtags(real_store, sources):
    both = _rows_of(real_store, 2).merge(sources["us"], on="source_row")
    assert (both["posted_at"] == pd.to_datetime(both["create_time"].astype("int64"), unit="s", utc=True)).all()
    assert set(both["time_zone"]) == {"UTC"} and set(both["snapshot"]) == {"undated"}
    assert (both["duration_s"] == both["video_length"].astype(float)).all()
    # Empty tags ("['greenscreen', '', 'morph']" occurs) are not hashtags and are dropped.
    expected = both["hashtags_y"].map(lambda t: [h.strip().lower() for h in ast.literal_eval(t) if h.strip()])
    assert [list(h) for h in both["hashtags_x"]] == expected.tolist()
    assert (both["crawl_list"] == both["source_file_y"]).all()


def test_recrawl_rows_are_second_observations_not_replacements(real_store, sources):
    stats = real_store["stats"]
    assert len(stats) == 6_074 + 1_397 - 1 + 30_942
    recrawled = set(_rows_of(real_store, 1)["video_id"])
    assert recrawled <= set(sources["vn"]["vid_id"])
    per_video = stats[stats["video_id"].isin(recrawled)].groupby("video_id")
    assert (per_video.size() == 2).all() and per_video["snapshot"].nunique().eq(2).all()
    # The earlier observation keeps its own counts next to the later one.
    first = sources["vn"].set_index("vid_id")
    second = sources["vn_recrawl"].set_index("vid_id")
    for video_id in sorted(recrawled)[:50]:
        rows = stats[stats["video_id"] == video_id].sort_values("snapshot")
        assert rows["snapshot"].tolist() == [first.loc[video_id, "vid_scrapeTime"], second.loc[video_id, "vid_scrapeTime"]]
        assert rows["likes"].tolist() == [count_of(first.loc[video_id, "vid_nlike"]), count_of(second.loc[video_id, "vid_nlike"])]
    excluded = Store("scraped").read("excluded").to_pandas()
    assert excluded.empty  # nothing superseded: a recrawl never replaces the first scrape
