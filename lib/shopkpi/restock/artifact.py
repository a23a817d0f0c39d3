"""restock.json: everything the dashboard page and the review report show, with language-independent keys."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from shopkpi import artifacts
from shopkpi.restock.figures import top_risks

FIGURES = {"projection": "figures/restock_projection.png", "risks": "figures/restock_risks.png",
           "accuracy": "figures/restock_accuracy.png"}
ACCURACY_MODELS = ["seasonal_naive", "moving_average", "ets", "croston", "sba", "tsb", "gbm", "selected"]
N_PROJECTIONS = 12


def _records(df: pd.DataFrame) -> list[dict]:
    return df.astype(object).where(df.notna(), None).to_dict(orient="records")


def build_payload(result, ctx, exports: dict) -> dict:
    panel, bt, plan = result.panel, result.backtest, result.plan
    meta = panel.meta
    summary = bt.summary([m for m in ACCURACY_MODELS if m in set(bt.rows["model"])])
    per_sku = bt.per_series("selected").join(meta[["seller_sku", "market", "model"]], how="left")
    horizon_end = result.future_dates[-1].date()
    events = result.events.uplifts
    upcoming = events[events["next_date"].notna() & (events["next_date"] <= horizon_end)] if len(events) else events
    order_now = plan[plan["order_qty"] > 0]
    forecasts = pd.DataFrame({"seller_sku": meta["seller_sku"], "market": meta["market"], "model": meta["model"],
                              "is_new": meta["is_new"], "censored_days": meta["censored_days"],
                              "forecast_28d": result.chosen[:, :28].sum(axis=1),
                              "forecast_28d_p10": result.lower[:, :28].sum(axis=1),
                              "forecast_28d_p90": result.upper[:, :28].sum(axis=1),
                              "forecast_horizon": result.chosen.sum(axis=1),
                              "units_91d": meta["units_91d"], "returns_91d": meta["returns_91d"]})
    risky = top_risks(plan, N_PROJECTIONS)
    keys = [f"{a}|{b}" for a, b in zip(risky["seller_sku"], risky["warehouse"])]
    p = ctx.period
    return {
        "client": ctx.client, "display_name": ctx.params.display_name, "language": ctx.language,
        "period": p.name, "period_start": p.start, "period_end": p.end, "origin": result.origin,
        "stock_as_of": max(plan["stock_as_of"]) if len(plan) else None,
        "reporting_currency": ctx.params.reporting_currency,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "horizon_days": result.options.horizon_days, "review_period_days": result.options.review_period_days,
        "summary": {
            "series": len(meta), "censored_days": int(meta["censored_days"].sum()), "new_series": int(meta["is_new"].sum()),
            "min_history_days": result.options.min_history_days,
            "rows": len(plan), "order_now": int((plan["order_qty"] > 0).sum()),
            "stockout_risk": int((plan["status"] == "stockout_risk").sum()),
            "order_value": float(order_now["order_value"].sum()), "cash_tied_up": float(plan["cash_tied_up"].sum()),
        },
        "accuracy": {
            "origins": bt.origins, "per_series_choice": bool(bt.per_series_choice),
            "overall": _records(summary),
            "models_chosen": {k: int(v) for k, v in meta["model"].value_counts().items()},
            "error_model": {"total": {"a": bt.error_total[0], "b": bt.error_total[1]},
                            "daily": {"a": bt.error_daily[0], "b": bt.error_daily[1]}},
        },
        "accuracy_per_sku": _records(per_sku.reset_index(drop=True)[["seller_sku", "market", "model", "wape_daily", "mase_daily",
                                                                      "bias_daily", "wape_total", "mase_total", "bias_total",
                                                                      "actual_total"]]),
        "events": _records(upcoming[["market", "effect", "key", "role", "name", "kind", "next_date", "uplift", "lo", "hi",
                                     "source", "uncertain", "history_days"]]) if len(upcoming) else [],
        "plan": _records(plan),
        "forecasts": _records(forecasts),
        "projections": {k: result.projections[k] for k in keys},
        "figures": FIGURES, "exports": exports, "notes": result.notes,
    }


def write_restock_artifact(result, ctx, exports: dict):
    return artifacts.write_json(ctx.artifacts_dir / "restock.json", build_payload(result, ctx, exports))
