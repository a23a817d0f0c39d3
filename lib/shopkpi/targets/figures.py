"""The attainment chart a boss reads at a glance: how far each target is, against how much time has gone."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from shopkpi.dictionary import t
from shopkpi.targets.catalogue import KPIS
from shopkpi.targets.catalogue import node_label

STATUS_COLOURS = {"met": "#1a7f37", "on_track": "#1a7f37", "at_risk": "#d29922", "behind": "#d29922",
                  "off_pace": "#c62828", "missed": "#c62828", "no_data": "#999999"}


def attainment_figure(evaluated: pd.DataFrame, language: str, period_kind_order=("quarter", "month", "biweek", "week")):
    rows = evaluated[(evaluated["level"] != "person") & evaluated["attainment"].notna()].copy()
    rows["order"] = rows["period_kind"].map({k: i for i, k in enumerate(period_kind_order)})
    rows = rows.sort_values(["order", "period", "depth", "kpi"])
    labels = [f"{r.period} · {t(r.kpi, language)} · {node_label(r.node, language)}" for r in rows.itertuples()]
    fig, ax = plt.subplots(figsize=(9, 0.38 * len(rows) + 1.2))
    y = np.arange(len(rows))[::-1]
    ax.barh(y, rows["attainment"] * 100, color=[STATUS_COLOURS[s] for s in rows["status"]], alpha=0.85, height=0.6)
    projected = rows["projection"].notna() & (rows["remaining_days"] > 0) & ~rows["kpi"].map(lambda k: KPIS[k].ratio)
    for yi, r, show in zip(y, rows.itertuples(), projected):
        ax.plot([r.elapsed_share * 100] * 2, [yi - 0.4, yi + 0.4], color="black", lw=1.2)
        if show and r.target:
            ax.errorbar(r.projection / r.target * 100, yi, xerr=[[(r.projection - r.projection_low) / r.target * 100],
                        [(r.projection_high - r.projection) / r.target * 100]], fmt="o", color="#333", ms=3, capsize=3)
    ax.axvline(100, color="#555", ls="--", lw=1)
    ax.set_yticks(y, labels)
    ax.set_xlabel(t("attainment_axis", language))
    ax.set_title(t("attainment_chart", language))
    fig.tight_layout()
    return fig
