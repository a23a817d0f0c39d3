"""Figures an operations lead reads at a glance: projected stock vs reorder point, top risks, accuracy."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from shopkpi.dictionary import t


def top_risks(plan: pd.DataFrame, n: int) -> pd.DataFrame:
    """Rows at risk or needing an order, soonest stock-out first."""
    rank = {"stockout_risk": 0, "order_now": 1, "ok": 2}
    risky = plan[plan["status"] != "ok"].copy()
    risky["_rank"] = risky["status"].map(rank)
    return risky.sort_values(["_rank", "stockout_date", "days_of_cover"], na_position="last").head(n).drop(columns="_rank")


def projection_figure(plan: pd.DataFrame, projections: dict, language: str, n: int = 9):
    rows = top_risks(plan, n)
    if rows.empty:
        rows = plan.head(min(n, len(plan)))
    cols = 3
    nrows = max(1, math.ceil(len(rows) / cols))
    fig, axes = plt.subplots(nrows, cols, figsize=(12, 3.0 * nrows), squeeze=False, sharex=False)
    for ax, r in zip(axes.ravel(), rows.itertuples()):
        p = projections[f"{r.seller_sku}|{r.warehouse}"]
        days = pd.date_range(p["start"], periods=len(p["projected"]), freq="D")
        ax.plot(days, p["projected"], color="#c62828", label=t("restock_current_plan", language))
        ax.plot(days, p["with_order"], color="#1565c0", linestyle="--", label=t("restock_with_order", language))
        ax.axhline(p["reorder_point"], color="#777", linestyle=":", label=t("restock_col_reorder_point", language))
        ax.axhline(0, color="black", linewidth=0.6)
        if p["inbound_day"] is not None and p["inbound_day"] < len(days):
            ax.axvline(days[p["inbound_day"]], color="#2e7d32", alpha=0.6, label=t("restock_inbound_lands", language))
        ax.set_title(f"{r.seller_sku} · {r.warehouse}", fontsize=9, loc="left")
        ax.tick_params(axis="x", labelrotation=30, labelsize=7)
        ax.tick_params(axis="y", labelsize=7)
    for ax in axes.ravel()[len(rows):]:
        ax.set_visible(False)
    handles, labels = axes.ravel()[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.suptitle(t("restock_projection", language), x=0.01, ha="left", fontweight="bold")
    fig.tight_layout(rect=(0, 0.05, 1, 0.97))
    return fig


def risks_figure(plan: pd.DataFrame, language: str, n: int = 15):
    rows = top_risks(plan, n)
    rows = rows[rows["stockout_date"].notna()]
    fig, ax = plt.subplots(figsize=(9, max(2.5, 0.35 * len(rows) + 1)))
    if rows.empty:
        ax.set_axis_off()
        return fig
    days = [(d - s).days for d, s in zip(rows["stockout_date"], rows["stock_as_of"])]
    labels = [f"{a} · {b}" for a, b in zip(rows["seller_sku"], rows["warehouse"])]
    colors = ["#c62828" if s == "stockout_risk" else "#ef6c00" for s in rows["status"]]
    ax.barh(labels, days, color=colors)
    ax.invert_yaxis()
    ax.set_xlabel(t("restock_days_to_stockout", language))
    ax.set_title(t("restock_top_risks", language), loc="left", fontsize=10)
    return fig


def accuracy_figure(summary: pd.DataFrame, language: str):
    long = summary.melt(id_vars="model", value_vars=["wape_daily", "wape_total"], var_name="level", value_name="wape")
    long["level"] = long["level"].map({"wape_daily": t("restock_daily", language), "wape_total": t("restock_lead_time_total", language)})
    long["model"] = long["model"].map(lambda m: t(f"restock_model_{m}", language))
    fig, ax = plt.subplots(figsize=(9, 4))
    sns.barplot(data=long, y="model", x="wape", hue="level", ax=ax)
    ax.set_xlabel("WAPE")
    ax.set_ylabel("")
    ax.legend(title="")
    ax.set_title(t("restock_accuracy", language), loc="left", fontsize=10)
    return fig
