"""The agency's creator contracts sheet: fixed fee per video and videos promised, for creators on a paid deal."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from shopkpi.demo.markets import MARKETS
from shopkpi.demo.writers import write_xlsx

HEADER = ["Creator username", "Market", "Commission model", "Commission rate", "Fixed fee per video", "Currency",
          "Videos promised", "LIVEs promised"]


def write_contracts(root: Path, creators: pd.DataFrame, fixed_time: dt.datetime) -> dict[str, int]:
    """raw/creators/creator_contracts.xlsx; open-collaboration creators have no contract and no row."""
    paid = creators[creators["fixed_fee_cents"] > 0].sort_values("handle")
    rows: list[list] = [HEADER]
    for r in paid.itertuples():
        rows.append([f"@{r.handle}", r.market, r.commission_model, f"{round(r.commission_rate * 100, 1):g}%",
                     r.fixed_fee_cents / 100, MARKETS[r.market]["currency"], int(r.contract_videos),
                     0])  # the demo's creator deals promise videos only
    rel = "creators/creator_contracts.xlsx"
    write_xlsx(root / rel, [("Contracts", rows)], fixed_time=fixed_time, column_widths={"A": 24, "C": 24})
    return {rel: len(rows) - 1}
