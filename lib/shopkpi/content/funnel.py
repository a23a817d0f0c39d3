"""Funnel views -> product clicks -> orders per content group, and the multiplicative GMV change decomposition.

Every ratio is recomputed from summed numerators and denominators of the group (never a mean of
per-video ratios), so a group's CTR is its clicks over its views.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

SUMS = ["views", "product_impressions", "product_clicks", "orders", "gmv_reporting", "engagements", "completions"]
# ratio -> (numerator, denominator, scale)
RATIOS = {
    "ctr": ("product_clicks", "views", 1.0),
    "ctor": ("orders", "product_clicks", 1.0),
    "gpm": ("gmv_reporting", "views", 1000.0),
    "aov": ("gmv_reporting", "orders", 1.0),
    "engagement_rate": ("engagements", "views", 1.0),
    "completion_rate": ("completions", "views", 1.0),
}
FACTORS = ["views", "ctr", "ctor", "aov"]


def add_ratios(sums: pd.DataFrame) -> pd.DataFrame:
    """CTR, CTOR, GPM, AOV, engagement and completion rate from the sums in each row."""
    out = sums.copy()
    for name, (numerator, denominator, scale) in RATIOS.items():
        if numerator in out and denominator in out:
            den = out[denominator].astype(float)
            out[name] = np.where(den > 0, out[numerator].astype(float) / den.where(den > 0, 1.0) * scale, np.nan)
    return out


def funnel(units: pd.DataFrame, by: list[str] | str | None = None) -> pd.DataFrame:
    """Summed funnel counts and recomputed ratios per group (`by` columns; None for one total row)."""
    by = [by] if isinstance(by, str) else list(by or [])
    columns = [c for c in SUMS if c in units]
    data = units.assign(units=1)
    if by:
        keys = data[by].astype("string").fillna("not_tagged")
        sums = data[columns + ["units"]].groupby([keys[c] for c in by], dropna=False).sum(min_count=1).reset_index()
    else:
        sums = data[columns + ["units"]].sum(min_count=1).to_frame().T
    return add_ratios(sums)


def factors(views: float, clicks: float, orders: float, gmv: float) -> dict[str, float]:
    """GMV as views x CTR x CTOR x AOV; exact whenever clicks and orders are not zero."""
    if not (views > 0 and clicks > 0 and orders > 0):
        return {"views": views, "ctr": math.nan, "ctor": math.nan, "aov": math.nan}
    return {"views": float(views), "ctr": clicks / views, "ctor": orders / clicks, "aov": gmv / orders}


def decompose(current: dict[str, float], previous: dict[str, float]) -> pd.DataFrame:
    """Which factor moved GMV: each factor's ratio and its share of the change (log-mean-Divisia, adds up exactly).

    `current`/`previous` are sums: views, product_clicks, orders, gmv_reporting.
    """
    now = factors(current["views"], current["product_clicks"], current["orders"], current["gmv_reporting"])
    before = factors(previous["views"], previous["product_clicks"], previous["orders"], previous["gmv_reporting"])
    g1, g0 = current["gmv_reporting"], previous["gmv_reporting"]
    rows = []
    defined = all(np.isfinite(list(now.values()))) and all(np.isfinite(list(before.values()))) and g1 > 0 and g0 > 0
    # Logarithmic mean weight: contributions in money sum exactly to the GMV change.
    weight = (g1 - g0) / math.log(g1 / g0) if defined and g1 != g0 else (g1 if defined else math.nan)
    for name in FACTORS:
        ratio = now[name] / before[name] if defined else math.nan
        rows.append({"factor": name, "previous": before[name], "current": now[name], "ratio": ratio,
                     "change": ratio - 1 if defined else math.nan,
                     "contribution": weight * math.log(ratio) if defined else math.nan})
    return pd.DataFrame(rows)


def main_driver(decomposition: pd.DataFrame) -> str | None:
    """The factor with the largest absolute contribution to the GMV change."""
    valid = decomposition.dropna(subset=["contribution"])
    return None if valid.empty else str(valid.loc[valid["contribution"].abs().idxmax(), "factor"])
