"""Weekly trend charts of each shop-health metric with the threshold in force, one figure per metric.

Chart text is language-neutral (market codes, the metrics' short names, "shopkpi" for our value and
"Seller Center" for the platform's), so a figure reads the same in every report language.
"""

from __future__ import annotations

import datetime as dt

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.ticker import PercentFormatter

from shopkpi.artifacts import save_figure

SHORT_NAMES = {"late_dispatch_rate": "LDR", "seller_fault_cancellation_rate": "SFCR", "valid_tracking_rate": "VTR",
               "on_time_delivery_rate": "OTDR", "seller_fault_return_rate": "SFRR", "response_rate_12h": "RR 12h",
               "response_rate_24h": "RR 24h", "negative_review_rate": "NRR"}
OURS, PLATFORM = "shopkpi", "Seller Center"


def trend_figure(assessed: pd.DataFrame, metric: str, report_weeks: dict[str, list[dt.date]]):
    """Ours (solid) and Seller Center's (dashed) weekly value per market, the threshold as a dotted step line."""
    d = assessed[assessed["metric"] == metric]
    ours_label, platform_label = OURS, PLATFORM
    long = pd.concat([
        d[d["source"] == "computed"].assign(series=ours_label)[["market", "week_start", "value", "series"]],
        d[d["platform_value"].notna()].assign(series=platform_label, value=lambda x: x["platform_value"])[
            ["market", "week_start", "value", "series"]],
    ])
    long["week_start"] = pd.to_datetime(long["week_start"])
    long["value"] = long["value"].astype(float)
    fig, ax = plt.subplots()
    markets = sorted(d["market"].unique())
    palette = dict(zip(markets, sns.color_palette("deep", len(markets))))
    if not long.empty:
        sns.lineplot(data=long, x="week_start", y="value", hue="market", style="series", hue_order=markets,
                     style_order=[ours_label, platform_label], palette=palette, marker="o", markersize=3, ax=ax)
    for market in markets:
        th = d[(d["market"] == market) & d["threshold"].notna()].sort_values("week_start")
        if len(th):
            ax.step(pd.to_datetime(th["week_start"]), th["threshold"].astype(float), where="post", linestyle=":",
                    linewidth=1.5, color=palette[market])
        for week in report_weeks.get(market, []):
            ax.axvspan(pd.Timestamp(week), pd.Timestamp(week) + pd.Timedelta(days=7), color="#f2c14e", alpha=0.15, lw=0)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_title(f"{SHORT_NAMES.get(metric, metric)} (····· threshold)", loc="left", fontsize=10)
    if ax.get_legend():
        handles, labels = ax.get_legend_handles_labels()
        keep = [(h, lab) for h, lab in zip(handles, labels) if lab not in ("market", "series")]
        ax.legend([h for h, _ in keep], [lab for _, lab in keep], title="", fontsize=8, loc="best")
    fig.autofmt_xdate()
    return fig


def write_trend_figures(assessed: pd.DataFrame, report_weeks: dict[str, list[dt.date]], folder) -> list:
    """Save one PNG per metric as figures/health_<metric>.png; returns the figures for display."""
    figures = []
    for metric in assessed["metric"].drop_duplicates():
        fig = trend_figure(assessed, metric, report_weeks)
        save_figure(fig, folder / f"health_{metric}.png")
        figures.append(fig)
    return figures
