"""What notebook 05_restock calls: run the restock analysis for a period, write its files, and tables to show."""

from __future__ import annotations

import pandas as pd

from shopkpi import artifacts, spreadsheet
from shopkpi.dictionary import t
from shopkpi.restock import export, figures
from shopkpi.restock.artifact import FIGURES, write_restock_artifact
from shopkpi.restock.pipeline import RestockResult, run_restock


def run(ctx) -> RestockResult:
    return run_restock(ctx.params, ctx.period.end)


def write_outputs(result: RestockResult, ctx) -> dict:
    """Purchase suggestion (CSV + XLSX in the outputs folder), figures, and restock.json."""
    lang = ctx.language
    table = export.suggestion_table(result.plan, lang)
    name = f"purchase_suggestion_{ctx.client}_{result.origin.isoformat()}"
    csv = spreadsheet.write_csv(table, ctx.outputs_dir / f"{name}.csv")
    # Units add up across markets; money is in each market's currency, so it gets no total.
    units = [t(f"restock_col_{c}", lang) for c in ("order_qty", "units_short_before_replenishment")]
    xlsx = spreadsheet.write_xlsx(table, ctx.outputs_dir / f"{name}.xlsx", sheet="purchase", freeze="C2", totals=units,
                                  totals_label=t("total", lang), status=export.status_colours(lang))
    import matplotlib.pyplot as plt

    figs = {"projection": figures.projection_figure(result.plan, result.projections, lang),
            "risks": figures.risks_figure(result.plan, lang),
            "accuracy": figures.accuracy_figure(result.backtest.summary(_shown_models(result)), lang)}
    for key, fig in figs.items():
        artifacts.save_figure(fig, ctx.artifacts_dir / FIGURES[key])
        plt.close(fig)
    exports = {"csv": csv.name, "xlsx": xlsx.name}
    write_restock_artifact(result, ctx, exports)
    return {"csv": csv, "xlsx": xlsx, "artifact": ctx.artifacts_dir / "restock.json"}


def _shown_models(result) -> list[str]:
    present = set(result.backtest.rows["model"])
    return [m for m in ["seasonal_naive", "moving_average", "ets", "croston", "sba", "tsb", "gbm", "median", "selected"]
            if m in present]


def summary_lines(result: RestockResult, ctx) -> list[str]:
    lang, plan = ctx.language, result.plan
    from shopkpi.restock.backtest import gain_interval

    acc = result.backtest.summary(["seasonal_naive", "selected"]).set_index("model")
    gain = gain_interval(result.backtest.rows)
    value = plan.loc[plan["order_qty"] > 0, "order_value"].sum()
    meta = result.panel.meta
    return [
        t("restock_origin_note", lang, origin=result.origin, period_end=ctx.period.end, stock_as_of=max(plan["stock_as_of"])),
        t("restock_summary_sentence", lang, order_now=int((plan["order_qty"] > 0).sum()),
          value=f"{ctx.params.reporting_currency} {value:,.0f}", at_risk=int((plan["status"] == "stockout_risk").sum())),
        t("restock_accuracy_sentence", lang, wape=f"{acc.at['selected', 'wape_total']:.1%}",
          naive=f"{acc.at['seasonal_naive', 'wape_total']:.1%}", gain=f"{gain['gain']:.0%}", low=f"{gain['low']:.0%}",
          high=f"{gain['high']:.0%}"),
        t("restock_demand_note", lang, censored=int(meta["censored_days"].sum()), new=int(meta["is_new"].sum()),
          min_days=result.options.min_history_days),
    ]


def order_table(result: RestockResult, ctx, only_actions: bool = True) -> pd.DataFrame:
    plan = result.plan[result.plan["status"] != "ok"] if only_actions else result.plan
    return export.suggestion_table(plan, ctx.language)


def _accuracy_columns(lang: str, levels=("daily", "weekly", "total")) -> dict:
    names = {}
    for level in levels:
        suffix = t("restock_lead_time_total" if level == "total" else f"restock_{level}", lang)
        for metric in ("wape", "mase", "bias"):
            if not (metric == "mase" and level == "weekly"):
                names[f"{metric}_{level}"] = f"{t('restock_' + metric, lang)} · {suffix}"
    return names


def accuracy_table(result: RestockResult, ctx) -> pd.DataFrame:
    """Overall WAPE, MASE and bias per model: daily, weekly (WAPE, bias) and on the lead-time total."""
    lang = ctx.language
    df = result.backtest.summary(_shown_models(result))
    df["model"] = df["model"].map(lambda m: t(f"restock_model_{m}", lang))
    names = {"model": t("restock_model", lang), **_accuracy_columns(lang), "series_origins": t("restock_scored", lang)}
    return df[list(names)].rename(columns=names)


def accuracy_notes(result: RestockResult, ctx) -> list[str]:
    """How 'selected' was chosen (per series or one model, with the scores that decided), and the local-model sample."""
    lang, bt = ctx.language, result.backtest
    s = bt.summary(["selected_per_series", "selected_single"]).set_index("model")["wape_total"]
    key = "restock_choice_note_per_series" if bt.per_series_choice else "restock_choice_note_single"
    best = bt.choice.mode().iloc[0] if len(bt.choice) else "gbm"
    notes = [t(key, lang, per_series=f"{s['selected_per_series']:.1%}", single=f"{s['selected_single']:.1%}",
               model=t(f"restock_model_{best}", lang))]
    scored = bt.rows.groupby("model")["series"].nunique()
    if "ets" in scored.index and scored["ets"] < scored.max():
        notes.append(t("restock_local_sample_note", lang, n=int(scored["ets"])))
    return notes


def origin_table(result: RestockResult, ctx) -> pd.DataFrame:
    """Lead-time-total WAPE at each backtest origin: selected vs seasonal naive, the gain and its 95% interval."""
    from shopkpi.restock.backtest import gain_interval

    lang, bt = ctx.language, result.backtest
    table = bt.by_origin(["seasonal_naive", "selected"])
    rows = []
    for origin, r in table.iterrows():
        g = gain_interval(bt.rows[bt.rows["origin"] == origin])
        rows.append({t("restock_origin", lang): str(origin), t("restock_model_selected", lang): f"{r['selected']:.1%}",
                     t("restock_model_seasonal_naive", lang): f"{r['seasonal_naive']:.1%}",
                     t("restock_gain", lang): f"{g['gain']:.0%} ({g['low']:.0%}–{g['high']:.0%})"})
    return pd.DataFrame(rows)


def per_sku_accuracy_table(result: RestockResult, ctx, top: int = 20) -> pd.DataFrame:
    """WAPE, MASE and bias of the selected model per SKU (the `top` largest by backtest demand)."""
    lang, meta = ctx.language, result.panel.meta
    df = result.backtest.per_series("selected").join(meta[["seller_sku", "market", "model"]], how="left")
    df = df.sort_values("actual_daily", ascending=False).head(top)
    df["model"] = df["model"].map(lambda m: t(f"restock_model_{m}", lang))
    names = {"seller_sku": t("restock_col_seller_sku", lang), "market": t("market", lang), "model": t("restock_model", lang),
             **_accuracy_columns(lang, ("daily", "total"))}
    return df[list(names)].rename(columns=names).reset_index(drop=True)


def events_table(result: RestockResult, ctx) -> pd.DataFrame:
    lang = ctx.language
    ev = result.events.uplifts
    end = result.future_dates[-1].date()
    ev = ev[ev["next_date"].notna() & (ev["next_date"] <= end)].sort_values(["next_date", "market"])
    return pd.DataFrame({
        t("market", lang): ev["market"], t("restock_event", lang): ev["name"] + " (" + ev["role"].map(lambda r: t(f"restock_role_{r}", lang)) + ")",
        t("restock_next_date", lang): ev["next_date"].astype(str) + ev["uncertain"].map(lambda u: f" ({t('restock_uncertain_date', lang)})" if u else ""),
        t("restock_uplift", lang): ev["uplift"].round(2),
        t("restock_interval", lang): [f"{a:.2f}–{b:.2f}" if pd.notna(a) else "–" for a, b in zip(ev["lo"], ev["hi"])],
        t("restock_source", lang): ev["source"].map(lambda s: t(f"restock_source_{s}", lang)),
    })
