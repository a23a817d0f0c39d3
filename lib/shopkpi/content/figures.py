"""Seaborn figures for the content notebook and dashboard: forest plot, funnel, GMV waterfall, lifecycle, traffic mix."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator

from shopkpi.artifacts import save_figure
from shopkpi.content.page import level_name
from shopkpi.dictionary import t


LIFT_TICKS = [0.5, 0.67, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0]
AGE_TICKS = [0.25, 0.5, 1, 3, 7, 14, 30]


def _log_axis(ax, ticks: list[float], label: str) -> None:
    """Log-scaled x axis with plain labels at the given ticks inside the data range (no 10^x notation)."""
    ax.set_xscale("log")
    low, high = ax.get_xlim()
    shown = [x for x in ticks if low <= x <= high] or [1.0]
    ax.xaxis.set_major_locator(FixedLocator(shown))
    ax.xaxis.set_major_formatter(FixedFormatter([label.format(x) for x in shown]))
    ax.xaxis.set_minor_locator(NullLocator())


def forest_figure(lifts: pd.DataFrame, lang: str):
    """Every feature level's lift with its 95% interval, one panel per metric; significant after FDR in colour."""
    metrics = [m for m in ("views", "ctr", "ctor") if m in set(lifts["metric"])]
    shown = lifts[~lifts["level"].isin(["not_tagged", "other"])].copy()
    shown["label"] = [level_name(f, lv, lang) for f, lv in zip(shown["feature"], shown["level"])]
    order = shown.drop_duplicates("label")["label"].tolist()
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 0.28 * len(order) + 1.5), sharey=True)
    axes = np.atleast_1d(axes)
    for ax, metric in zip(axes, metrics):
        part = shown[shown["metric"] == metric].set_index("label").reindex(order)
        y = np.arange(len(order))
        colours = np.where(part["significant"].fillna(False).astype(bool), "#1f6feb", "#9e9e9e")
        ax.hlines(y, part["ci_low"], part["ci_high"], color=colours, lw=2)
        ax.scatter(part["lift"], y, color=colours, zorder=3, s=18)
        ax.axvline(1.0, color="#444", lw=0.8, ls="--")
        _log_axis(ax, LIFT_TICKS, "×{:g}")
        ax.set_title(t("content_metric_" + metric, lang))
        ax.set_yticks(y, order)
        ax.invert_yaxis()
        ax.set_xlabel(t("content_lift_axis", lang))
    fig.suptitle(t("content_effects", lang))
    fig.tight_layout()
    return fig


def funnel_figure(funnel_table: pd.DataFrame, group: str, lang: str):
    """CTR and CTOR per content group (ratios of sums), with views as context."""
    data = funnel_table[funnel_table["views"] > 0].copy()
    fig, axes = plt.subplots(1, 3, figsize=(12, 0.35 * len(data) + 1.8), sharey=True)
    for ax, (column, key) in zip(axes, [("views", "content_views"), ("ctr", "ctr"), ("ctor", "ctor")]):
        sns.barplot(data=data, y=group, x=column, ax=ax, color="#4c72b0")
        ax.set_title(t(key, lang))
        ax.set_xlabel("")
        ax.set_ylabel(t("content_feature_" + group, lang) if ax is axes[0] else "")
    fig.suptitle(t("content_funnel", lang))
    fig.tight_layout()
    return fig


def waterfall_figure(decomposition: pd.DataFrame, previous_gmv: float, current_gmv: float, currency: str,
                     lang: str, previous_name: str, current_name: str):
    """GMV of the previous period, each factor's contribution, GMV of this period."""
    names = {"views": "content_views", "aov": "content_aov"}
    labels = [previous_name] + [t(names.get(f, f), lang) for f in decomposition["factor"]] + [current_name]
    steps = decomposition["contribution"].fillna(0).to_numpy()
    bottoms = np.concatenate([[0], previous_gmv + np.concatenate([[0], np.cumsum(steps)[:-1]]), [0]])
    heights = np.concatenate([[previous_gmv], steps, [current_gmv]])
    colours = ["#777"] + ["#1a7f37" if s >= 0 else "#c62828" for s in steps] + ["#777"]
    fig, ax = plt.subplots(figsize=(8, 3.8))
    ax.bar(labels, heights, bottom=bottoms, color=colours)  # a negative height draws down from the running total
    ax.set_ylabel(f"{t('content_gmv_videos', lang)} ({currency})")
    ax.set_title(t("content_decomposition", lang))
    fig.tight_layout()
    return fig


def lifecycle_figure(lifecycle: dict, lang: str):
    """Share of the first 30 days' views (re-scrapes, fitted curve) and orders (counted, 95% band) by age."""
    curves = []
    for measure in ("views", "orders"):
        if lifecycle.get(measure):
            curve = pd.DataFrame(lifecycle[measure]["curve"]).assign(measure=t("content_lifecycle_" + measure, lang))
            curves.append(curve)
    data = pd.concat(curves, ignore_index=True)
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    sns.lineplot(data=data, x="age_days", y="share", hue="measure", marker="o", ax=ax)
    if "ci_low" in data:
        for _, part in data.dropna(subset=["ci_low"]).groupby("measure"):
            ax.fill_between(part["age_days"], part["ci_low"], part["ci_high"], alpha=0.2, color="#888")
    _log_axis(ax, AGE_TICKS, "{:g}")
    ax.set_xlabel(t("content_age_days", lang))
    ax.set_ylabel(t("content_share_of_total", lang, days=30))
    ax.set_ylim(0, 1.05)
    ax.legend(title="")
    ax.set_title(t("content_lifecycle", lang))
    fig.tight_layout()
    return fig


def traffic_figure(traffic: pd.DataFrame, lang: str):
    """Weekly sales share by channel, one panel per market."""
    data = traffic.copy()
    data["channel_label"] = [t("content_channel_" + c, lang) for c in data["channel"]]
    markets = sorted(data["market"].unique())
    fig, axes = plt.subplots(1, len(markets), figsize=(6 * len(markets), 3.6), sharey=True)
    axes = np.atleast_1d(axes)
    for ax, market in zip(axes, markets):
        wide = data[data["market"] == market].pivot_table(index="week_start", columns="channel_label", values="share", aggfunc="sum")
        ax.stackplot(pd.to_datetime(wide.index), wide.fillna(0).T.values, labels=wide.columns)
        ax.set_title(market)
        ax.set_ylim(0, 1)
        ax.tick_params(axis="x", rotation=45)
    axes[-1].legend(loc="center left", bbox_to_anchor=(1, 0.5), fontsize=8)
    fig.suptitle(t("content_traffic", lang))
    fig.tight_layout()
    return fig


def save(fig, folder: Path, name: str) -> str:
    """Save under the artifacts' figures folder; returns the file name recorded in content.json."""
    save_figure(fig, Path(folder) / f"{name}.png")
    plt.close(fig)
    return f"{name}.png"


def main_driver_label(decomposition: pd.DataFrame, lang: str) -> str:
    """The factor that moved GMV most, as a label."""
    from shopkpi.content.funnel import main_driver

    driver = main_driver(decomposition)
    if driver is None:
        return "–"
    return t({"views": "content_views", "aov": "content_aov"}.get(driver, driver), lang)
