"""Seaborn figures for the creator review; all text comes from the i18n dictionary."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from shopkpi.creators.scorecard import TIER_ORDER
from shopkpi.dictionary import t

ISOLINES = [1, 2, 5, 10]
RECOMMENDATION_COLOURS = {"scale": "#1a7f37", "keep": "#4c72b0", "renegotiate": "#dd8452", "drop": "#c62828"}


def cost_return_scatter(card: pd.DataFrame, lang: str, currency: str):
    """Creator cost vs net GMV (reporting currency, log scales) with ROI isolines, coloured by recommendation."""
    d = card[(card["total_cost_rc"] > 0) & (card["gmv_net_rc"] > 0)].copy()
    rec_label, screen_label = t("cr_recommendation", lang), t("cr_fake_screen", lang)
    d[rec_label] = d["recommendation"].map(lambda r: t(f"cr_rec_{r}", lang))
    d[screen_label] = d["fake_flagged"].map({True: t("cr_fake_flagged", lang), False: t("cr_not_flagged", lang)})
    fig, ax = plt.subplots(figsize=(9, 5.5))
    lo = min(d["total_cost_rc"].min(), d["gmv_net_rc"].min()) / 2 if len(d) else 1
    hi = max(d["total_cost_rc"].max(), d["gmv_net_rc"].max()) * 2 if len(d) else 10
    xs = np.geomspace(lo, hi, 50)
    for k in ISOLINES:
        ax.plot(xs, k * xs, color="#999", lw=0.8, ls="--")
        ax.annotate(f"ROI {k}", (hi / 1.5 / k, hi / 1.5), fontsize=8, color="#666", ha="right", va="bottom")
    palette = {t(f"cr_rec_{r}", lang): c for r, c in RECOMMENDATION_COLOURS.items()}
    sns.scatterplot(data=d, x="total_cost_rc", y="gmv_net_rc", hue=rec_label, palette=palette, style=screen_label,
                    s=50, ax=ax)
    ax.set(xscale="log", yscale="log", xlim=(lo, hi), ylim=(lo, hi),
           xlabel=f"{t('cr_total_cost', lang)} ({currency})", ylabel=f"{t('cr_gmv_net_creator', lang)} ({currency})")
    ax.set_title(t("cr_fig_cost_vs_return", lang), loc="left", fontsize=11)
    ax.legend(fontsize=8)
    return fig


def shrinkage_figure(card: pd.DataFrame, lang: str, top: int = 25):
    """Top creators by expected ROI: the raw ROI, the shrunk estimate and its interval, and break-even."""
    d = card.dropna(subset=["roi_expected"]).head(top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(9, max(4, 0.28 * len(d))))
    y = np.arange(len(d))
    ax.hlines(y, d["roi_lo"], d["roi_hi"], color="#4c72b0", lw=2, label=t("cr_roi_interval", lang))
    ax.scatter(d["roi_expected"], y, color="#4c72b0", zorder=3, label=t("cr_roi_expected", lang))
    ax.scatter(d["roi"], y, color="#c44e52", marker="x", zorder=3, label=t("cr_roi", lang))
    ax.scatter(d["break_even_roi"], y, color="#333", marker="|", s=120, zorder=3, label=t("cr_break_even_roi", lang))
    ax.set_yticks(y, [f"{c} ({m}, {tier})" for c, m, tier in zip(d["creator"], d["market"], d["tier"].fillna("–"))],
                  fontsize=8)
    ax.set_xlabel("ROI")
    ax.set_title(t("cr_fig_shrinkage", lang), loc="left", fontsize=11)
    ax.legend(fontsize=8, loc="lower right")
    return fig


def tier_funnel(card: pd.DataFrame, lang: str):
    """Per tier: product impressions, product clicks and orders per 1,000 video views (pooled)."""
    stages = [("product_impressions", "cr_product_impressions"), ("product_clicks", "cr_product_clicks"),
              ("video_orders", "orders")]
    rows = []
    for tier, d in card.dropna(subset=["tier"]).groupby("tier"):
        views = d["views"].sum()
        if views <= 0:
            continue
        for column, key in stages:
            rows.append({"tier": tier, "stage": t(key, lang), "per_1000_views": 1000 * d[column].sum() / views})
    data = pd.DataFrame(rows)
    fig, ax = plt.subplots(figsize=(9, 4))
    if not data.empty:
        order = [x for x in TIER_ORDER if x in set(data["tier"])]
        sns.barplot(data=data, x="stage", y="per_1000_views", hue="tier", hue_order=order, ax=ax)
        ax.set_yscale("log")
        ax.legend(title=t("cr_tier", lang), fontsize=8)
    ax.set(xlabel="", ylabel=t("cr_per_1000_views", lang))
    ax.set_title(t("cr_fig_tier_funnel", lang), loc="left", fontsize=11)
    return fig


def fake_screen_figure(screen: pd.DataFrame, lang: str):
    """Likes per view against engagement per product click (each vs its market median); flagged in red."""
    d = screen.copy()
    for c in ["likes_per_view", "engagement_per_click"]:
        d[c + "_rel"] = d[c] / d.groupby("market")[c].transform("median")
    status, market = t("cr_fake_screen", lang), t("market", lang)
    d[status] = d["flagged"].map({True: t("cr_fake_flagged", lang), False: t("cr_not_flagged", lang)})
    d[market] = d["market"]
    fig, ax = plt.subplots(figsize=(8, 5))
    sns.scatterplot(data=d, x="likes_per_view_rel", y="engagement_per_click_rel", hue=status, style=market,
                    palette={t("cr_fake_flagged", lang): "#c62828", t("cr_not_flagged", lang): "#4c72b0"}, s=50, ax=ax)
    ax.set(xscale="log", yscale="log", xlabel=t("cr_likes_per_view_vs_median", lang),
           ylabel=t("cr_engagement_per_click_vs_median", lang))
    ax.set_title(t("cr_fig_fake_screen", lang), loc="left", fontsize=11)
    ax.legend(fontsize=8)
    return fig


def live_heatmap(slots: pd.DataFrame, lang: str):
    """Per market: host x local start slot, GMV per hour in the market currency."""
    markets = sorted(slots["market"].unique()) if not slots.empty else []
    fig, axes = plt.subplots(1, max(len(markets), 1), figsize=(6 * max(len(markets), 1), 6), squeeze=False)
    for ax, market in zip(axes[0], markets):
        d = slots[slots["market"] == market]
        grid = d.pivot_table(index="host", columns="slot", values="gmv_per_hour", aggfunc="sum")
        grid = grid.loc[grid.max(axis=1).sort_values(ascending=False).index]
        sns.heatmap(grid, cmap="YlGn", annot=True, fmt=",.0f", annot_kws={"fontsize": 7}, cbar=False, ax=ax,
                    linewidths=0.5, linecolor="white")
        ax.grid(False)
        ax.set(xlabel=t("cr_local_slot", lang), ylabel="")
        ax.set_title(f"{market} · {t('cr_gmv_per_hour', lang)} ({d['currency'].iloc[0]})", loc="left", fontsize=11)
    fig.tight_layout()
    return fig
