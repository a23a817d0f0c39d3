"""creators.json (what the report and dashboard read), the figures, and the partnerships shortlist."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from shopkpi import artifacts, spreadsheet
from shopkpi.creators.analysis import CreatorReview
from shopkpi.creators.fake_audience import ScreenRules
from shopkpi.dictionary import t

NAME = "creators.json"
CREATOR_COLUMNS = [
    "rank", "creator", "market", "currency", "tier", "followers", "videos", "lives", "orders", "units",
    "gmv_gross", "gmv_net", "gmv_net_video", "gmv_net_live", "gmv_net_showcase", "gmv_direct_video", "gmv_direct_live",
    "cogs", "gross_profit", "commission_paid", "commission_estimated_open", "commission", "fixed_fees", "sample_cost",
    "sample_units", "ad_spend", "total_cost", "roi", "profit_roi", "break_even_roi", "roi_expected", "roi_lo", "roi_hi",
    "roi_shrinkage", "roi_prior", "cost_per_order", "gpm", "cvr", "cvr_expected", "cvr_lo", "cvr_hi", "ctr",
    "engagement_rate", "views", "product_clicks", "videos_promised", "lives_promised", "contract_videos_posted", "contract_lives_hosted",
    "delivery_rate", "under_delivered", "roi_evidence", "recommendation", "reason", "fake_flagged", "screened",
    "total_cost_rc", "gmv_net_rc", "gross_profit_rc", "cost_per_order_rc",
]
SCREEN_COLUMNS = ["creator", "market", "videos", "views", "followers", "likes_per_view", "comments_per_like",
                  "views_per_follower", "product_ctr", "engagement_per_click", "duplicate_comment_share",
                  "comments_sampled", "follower_jump", "n_rules", "anomaly_score", "anomaly_percentile", "flagged", "reasons"]


def _records(df: pd.DataFrame, columns: list[str] | None = None) -> list[dict]:
    if df is None or df.empty:
        return []
    keep = [c for c in (columns or df.columns) if c in df.columns]
    return df[keep].astype(object).where(df[keep].notna(), None).to_dict(orient="records")


def payload(r: CreatorReview, ctx, as_of, classifier: dict, figures: dict[str, str]) -> dict:
    card = r.scorecard
    cost, gmv = float(card["total_cost_rc"].sum()), float(card["gmv_net_rc"].sum())
    return {
        "kind": "creators", "client": ctx.client, "display_name": ctx.params.display_name,
        "period": ctx.period.name, "period_start": ctx.period.start, "period_end": ctx.period.end,
        "as_of": as_of, "language": ctx.language, "reporting_currency": r.reporting_currency,
        "window": r.window.to_dict(),
        "summary": {
            "creators": int(len(card)), "total_cost": cost, "gmv_net": gmv, "pooled_roi": gmv / cost if cost else None,
            "recommendations": {k: int(v) for k, v in card["recommendation"].value_counts().items()},
            "screened": int(card["screened"].sum()), "fake_flagged": int(card["fake_flagged"].sum()),
            "live_sessions": int(len(r.live_sessions)),
        },
        "notes": r.notes,
        "creators": _records(card, CREATOR_COLUMNS),
        "tiers": _records(r.tiers),
        "fake_screen": {"rules": dataclasses.asdict(ScreenRules()), "creators": _records(r.screen, SCREEN_COLUMNS)},
        "live": {"hosts": _records(r.live_hosts), "slots": _records(r.live_slots), "best_slots": _records(r.best_slots),
                 "funnel": _records(r.live_funnel)},
        "classifier": classifier,
        "figures": figures,
    }


def write(r: CreatorReview, ctx, as_of, classifier: dict, figures: dict[str, str]) -> Path:
    return artifacts.write_json(ctx.artifacts_dir / NAME, payload(r, ctx, as_of, classifier, figures))


def shortlist(r: CreatorReview, lang: str) -> pd.DataFrame:
    """The ranked table a partnerships manager acts on, headers and reasons in the client's language."""
    card = r.scorecard
    return pd.DataFrame({
        t("rank", lang): card["rank"], t("cr_creator", lang): card["creator"], t("market", lang): card["market"],
        t("cr_tier", lang): card["tier"], t("cr_recommendation", lang): card["recommendation"].map(lambda v: t(f"cr_rec_{v}", lang)),
        t("reason", lang): card["reason"].map(lambda v: t(v, lang)),
        t("cr_roi_expected", lang): card["roi_expected"].round(2), t("cr_roi_lo", lang): card["roi_lo"].round(2),
        t("cr_roi", lang): card["roi"].round(2), t("cr_break_even_roi", lang): card["break_even_roi"].round(2),
        t("orders", lang): card["orders"], t("cr_currency", lang): card["currency"],
        t("cr_total_cost", lang): card["total_cost"].round(2), t("cr_gmv_net_creator", lang): card["gmv_net"].round(2),
        t("cr_fake_flagged", lang): card["fake_flagged"].map(lambda v: t("cr_yes" if v else "cr_no", lang)),
    })


def write_shortlist(r: CreatorReview, lang: str, folder: Path) -> list[Path]:
    """creator_shortlist.csv (UTF-8 with BOM so Excel shows CJK) and .xlsx in `folder`."""
    table = shortlist(r, lang)
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, xlsx_path = folder / "creator_shortlist.csv", folder / "creator_shortlist.xlsx"
    return [spreadsheet.write_csv(table, csv_path),
            spreadsheet.write_xlsx(table, xlsx_path, sheet="shortlist", freeze="C2", status=shortlist_colours(lang))]


REC_LEVELS = {"scale": "good", "renegotiate": "warn", "drop": "bad"}  # "keep" stays unfilled


def shortlist_colours(lang: str) -> dict[str, dict[str, str]]:
    """Fills for the recommendation and fake-audience columns, by their shown (translated) values."""
    return {t("cr_recommendation", lang): {t(f"cr_rec_{r}", lang): lvl for r, lvl in REC_LEVELS.items()},
            t("cr_fake_flagged", lang): {t("cr_yes", lang): "bad"}}
