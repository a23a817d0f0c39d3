"""The creator_contracts export kind: header detection, typed values, and bad rows quarantined with file/row/column."""

from __future__ import annotations

from pathlib import Path

from shopkpi.ingest.pipeline import ingest, row_accounting
from shopkpi.params import load_client_params
from shopkpi.store import Store

SHEET = """Creator username,Market,Commission model,Commission rate,Fixed fee per video,Currency,Videos promised,LIVEs promised,Contract start,Contract end
@glowwithhannah,UK,Targeted collaboration,15%,250.00,GBP,4,0,2026-09-01,
nong.mint.review,Thailand,Targeted collaboration,20%,"฿6,800.00",THB,5,1,2026-09-01,2026-12-31
fee.typo,UK,Targeted collaboration,10%,abc,GBP,3,0,,
minus.videos,UK,Targeted collaboration,10%,100.00,GBP,-2,0,,
,UK,Targeted collaboration,10%,100.00,GBP,2,0,,
mars.creator,Mars,Targeted collaboration,10%,100.00,GBP,2,0,,
backwards,UK,Targeted collaboration,10%,100.00,GBP,2,0,2026-10-01,2026-09-01
"""


def test_contracts_sheet_ingests_and_quarantines_bad_rows(workspace):
    path = workspace / "in" / "creator_contracts.csv"
    path.parent.mkdir(parents=True)
    path.write_text(SHEET, encoding="utf-8")
    report = ingest("demo", load_client_params("demo"), [path])
    (f,) = report.files
    assert (f.kind, f.rows_in, f.rows_kept, f.rows_quarantined) == ("creator_contracts", 7, 2, 5)
    rows = {r["creator"]: r for r in Store("demo").read("creator_contracts").to_pylist()}
    assert set(rows) == {"glowwithhannah", "nong.mint.review"}
    uk, th = rows["glowwithhannah"], rows["nong.mint.review"]
    assert (uk["market"], float(uk["fixed_fee_per_video"]), uk["currency"], uk["videos_promised"], uk["commission_rate"]) == (
        "UK", 250.0, "GBP", 4, 0.15)
    assert (th["market"], float(th["fixed_fee_per_video"]), th["currency"], th["videos_promised"], th["lives_promised"]) == (
        "TH", 6800.0, "THB", 5, 1)
    assert str(uk["contract_start"]) == "2026-09-01" and str(th["contract_end"]) == "2026-12-31"
    quarantine = {q["source_row"]: q for q in Store("demo").read("quarantine").to_pylist()}
    expected = {
        4: ("Fixed fee per video", "abc", "not a money amount"),
        5: ("Videos promised", "-2", "negative"),
        6: ("Creator username", "", "required value is empty"),
        7: ("Market", "Mars", "not a market code"),
        8: ("Contract end", "2026-09-01", "ends before the contract start"),
    }
    assert set(quarantine) == set(expected)
    for row, (column, value, reason) in expected.items():
        q = quarantine[row]
        assert Path(q["source_file"]).name == "creator_contracts.csv"
        assert (q["column"], q["raw_value"]) == (column, value) and reason in q["reason"], (row, q)
    assert all(r["unaccounted"] == 0 for r in row_accounting("demo").to_pylist())
