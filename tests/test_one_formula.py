"""Each money formula is written once: net GMV and counted refunds in the `clean_orders` view, the FX conversion in
`report.fx_join`. A copy elsewhere in the library could drift from them unnoticed, so this reads the code itself."""

from __future__ import annotations

import re
from pathlib import Path

import shopkpi

LIB = Path(shopkpi.__file__).parent
# The importers read the raw column; everything after cleaning must use clean_orders.gmv_net / refund_amount.
READERS = ("ingest/", "demo/")


def _sources():
    for file in sorted(LIB.rglob("*.py")):
        rel = file.relative_to(LIB).as_posix()
        if not rel.startswith(READERS):
            yield rel, file.read_text(encoding="utf-8")


def test_net_gmv_and_refunds_are_written_once_in_the_clean_view():
    found = [rel for rel, text in _sources() if "order_refund_amount" in text]
    assert found == ["clean.py"], found
    clean = (LIB / "clean.py").read_text(encoding="utf-8")
    assert len(re.findall(r"AS gmv_net\b", clean)) == 1 and len(re.findall(r"AS refund_amount\b", clean)) == 1


def test_the_fx_conversion_is_written_once():
    copies = [(rel, n) for rel, text in _sources() if (n := len(re.findall(r"ASOF\s+JOIN\s+fx\b", text)))]
    assert copies == [("report.py", 1)], copies
