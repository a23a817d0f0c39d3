"""The review's tables and summary lines in the client's language, for the notebook."""

from __future__ import annotations

import pandas as pd

from shopkpi import display
from shopkpi.creators.analysis import CreatorReview
from shopkpi.dictionary import t


def _shown(columns: dict, money=(), counts=(), percents=(), left=()) -> pd.DataFrame:
    """A table whose columns remember how they are shown (by position: headers are in any language)."""
    df = pd.DataFrame(columns)
    names = list(df.columns)
    df.attrs["formats"] = {"money": [names[i] for i in money], "counts": [names[i] for i in counts],
                           "percents": [names[i] for i in percents], "left": [names[i] for i in left]}
    return df


def render(df: pd.DataFrame):
    """A table from this module as a Styler: thousands separators, rates as percentages, text left."""
    f = df.attrs.get("formats", {})
    styler = display.table(df, money=f.get("money", []), counts=f.get("counts", []), left=f.get("left"))
    return styler.format({c: "{:.1%}" for c in f.get("percents", [])}, na_rep="–")


def reason_text(reasons: list[dict], lang: str) -> str:
    """Screen reasons as words: "likes per view 3.2x the market median; ..."."""
    return "; ".join(t(r["rule"], lang, value=r["value"]) for r in reasons)


def ranked_table(r: CreatorReview, lang: str, top: int | None = None) -> pd.DataFrame:
    card = r.scorecard if top is None else r.scorecard.head(top)
    cur = r.reporting_currency
    return _shown({
        t("rank", lang): card["rank"], t("cr_creator", lang): card["creator"], t("market", lang): card["market"],
        t("cr_tier", lang): card["tier"].fillna("–"),
        t("cr_recommendation", lang): card["recommendation"].map(lambda v: t(f"cr_rec_{v}", lang)),
        t("reason", lang): card["reason"].map(lambda v: t(v, lang)),
        t("cr_roi_expected", lang): card["roi_expected"], t("cr_roi_lo", lang): card["roi_lo"],
        t("cr_roi", lang): card["roi"], t("cr_break_even_roi", lang): card["break_even_roi"],
        t("orders", lang): card["orders"],
        f"{t('cr_total_cost', lang)} ({cur})": card["total_cost_rc"],
        f"{t('cr_gmv_net_creator', lang)} ({cur})": card["gmv_net_rc"],
        f"{t('cr_cost_per_order', lang)} ({cur})": card["cost_per_order_rc"],
        t("cr_cvr_expected", lang): card["cvr_expected"], t("cr_engagement_rate", lang): card["engagement_rate"],
    }, money=[6, 7, 8, 9, 11, 12, 13], counts=[0, 10], percents=[14, 15], left=range(1, 6))


def cost_table(r: CreatorReview, lang: str, top: int = 20) -> pd.DataFrame:
    """Where the money went, in each creator's market currency; estimated commission shown apart."""
    card = r.scorecard.sort_values("total_cost_rc", ascending=False).head(top)

    def delivered(done, promised):
        return [f"{int(p)}/{int(q)}" if q else "–" for p, q in zip(card[done], card[promised])]

    return _shown({
        t("cr_creator", lang): card["creator"], t("cr_currency", lang): card["currency"],
        t("cr_commission_paid", lang): card["commission_paid"],
        t("cr_commission_estimated_open", lang): card["commission_estimated_open"],
        t("cr_fixed_fees", lang): card["fixed_fees"], t("cr_sample_cost", lang): card["sample_cost"],
        t("cr_ad_spend", lang): card["ad_spend"], t("cr_total_cost", lang): card["total_cost"],
        t("cr_gmv_net_creator", lang): card["gmv_net"],
        t("cr_gmv_direct", lang): card["gmv_direct_video"] + card["gmv_direct_live"],
        t("cr_gross_profit", lang): card["gross_profit"],
        t("cr_delivery", lang): delivered("contract_videos_posted", "videos_promised"),
        t("cr_delivery_lives", lang): delivered("contract_lives_hosted", "lives_promised"),
    }, money=range(2, 11), left=[0, 1])


def tier_table(r: CreatorReview, lang: str) -> pd.DataFrame:
    d = r.tiers
    return _shown({
        t("market", lang): d["market"], t("cr_tier", lang): d["tier"], t("cr_creators", lang): d["creators"],
        t("cr_currency", lang): d["currency"], t("cr_total_cost", lang): d["total_cost"],
        t("cr_gmv_net_creator", lang): d["gmv_net"], t("cr_pooled_roi", lang): d["pooled_roi"],
        t("cr_median_roi", lang): d["median_roi"], t("cr_pooled_cvr", lang): d["pooled_cvr"],
        t("cr_median_cost_per_order", lang): d["median_cost_per_order"],
        t("cr_median_engagement_rate", lang): d["median_engagement_rate"],
    }, money=[4, 5, 6, 7, 9], counts=[2], percents=[8, 10], left=[0, 1, 3])


def screen_table(r: CreatorReview, lang: str, flagged_only: bool = True) -> pd.DataFrame:
    s = r.screen[r.screen["flagged"]] if flagged_only else r.screen
    s = s.sort_values(["n_rules", "anomaly_percentile"], ascending=False)
    return _shown({
        t("cr_creator", lang): s["creator"], t("market", lang): s["market"], t("cr_rules_fired", lang): s["n_rules"],
        t("cr_anomaly_percentile", lang): s["anomaly_percentile"],
        t("reason", lang): s["reasons"].map(lambda rs: reason_text(rs, lang)),
    }, counts=[2], percents=[3], left=[0, 1, 4])


def live_host_table(r: CreatorReview, lang: str) -> pd.DataFrame:
    d = r.live_hosts
    return _shown({
        t("market", lang): d["market"], t("cr_host", lang): d["host"], t("cr_sessions", lang): d["sessions"],
        t("cr_hours", lang): d["hours"], t("cr_currency", lang): d["currency"], t("cr_live_gmv", lang): d["gmv"],
        t("cr_gmv_per_hour", lang): d["gmv_per_hour"], t("cr_gmv_24h", lang): d["gmv_24h"],
        t("cr_viewers_per_session", lang): d["viewers_per_session"], t("cr_acu", lang): d["acu"],
        t("cr_pcu", lang): d["pcu"], t("cr_avg_view_duration_s", lang): d["avg_view_duration_s"],
        t("cr_live_ctr", lang): d["ctr"], t("cr_ctor", lang): d["ctor"], t("cr_gpm", lang): d["gpm"],
    }, money=[3, 5, 6, 7, 14], counts=[2, 8, 9, 10, 11], percents=[12, 13], left=[0, 1, 4])


def best_slot_table(r: CreatorReview, lang: str) -> pd.DataFrame:
    d = r.best_slots
    return _shown({
        t("market", lang): d["market"], t("cr_local_slot", lang): d["slot"], t("cr_sessions", lang): d["sessions"],
        t("cr_currency", lang): d["currency"], t("cr_gmv_per_hour", lang): d["gmv_per_hour"],
        t("cr_live_ctr", lang): d["ctr"], t("cr_ctor", lang): d["ctor"], t("cr_gpm", lang): d["gpm"],
    }, money=[4, 7], counts=[2], percents=[5, 6], left=[0, 1, 3])


def funnel_table(r: CreatorReview, lang: str) -> pd.DataFrame:
    d = r.live_funnel
    return _shown({
        t("market", lang): d["market"], t("cr_stage", lang): d["stage"].map(lambda s: t(f"cr_funnel_{s}", lang)),
        t("cr_value", lang): d["value"], t("cr_rate_from_previous", lang): d["rate_from_previous"],
    }, counts=[2], percents=[3], left=[0, 1])
