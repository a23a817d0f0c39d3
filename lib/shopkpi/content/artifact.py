"""content.json: the content analysis as the dashboard and the review report read it (language-independent keys)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from shopkpi.artifacts import write_json
from shopkpi.content.pipeline import ContentAnalysis

ARTIFACT = "content.json"
SCHEMA_VERSION = 1


def _records(df: pd.DataFrame | None) -> list[dict]:
    return [] if df is None else df.astype(object).where(df.notna(), None).to_dict("records")


def to_payload(result: ContentAnalysis, figures: dict[str, str] | None = None) -> dict:
    """Self-describing payload: period, as-of, currency, window, every section; labels are resolved by the reader."""
    effects = result.effects
    return {
        "schema": SCHEMA_VERSION,
        "analysis": "content",
        "client": result.client,
        "period": result.period.name, "period_start": result.period.start, "period_end": result.period.end,
        "language": result.language,
        "reporting_currency": result.reporting_currency,
        "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "filters": result.filters,
        "window": result.window,
        "funnels": {name: _records(df) for name, df in result.funnels.items()},
        "decomposition": {**result.decomposition_periods, "factors": _records(result.decomposition)},
        "effects": None if effects is None else {
            "mature_before": effects.mature_before, "fdr_alpha": 0.05, "fits": effects.fits,
            "lifts": _records(effects.lifts)},
        "holdout": result.holdout,
        "importance": result.importance,
        "experiments": result.tests,
        "lifecycle": result.lifecycle,
        "traffic": _records(result.traffic),
        "public_videos": result.public,
        "recommendations": result.recommendations,
        "combination": result.combination,
        "missing": result.missing,
        "figures": figures or {},
    }


def subset_suffix(filters: dict) -> str:
    """"" for the whole client; ".UK.micro"-style for a market/tier subset, so a subset run never overwrites
    the artifact the dashboard and the review read."""
    parts = ["-".join(filters.get("markets") or []), "-".join(filters.get("tiers") or [])]
    return "" if not any(parts) else "." + ".".join(p or "all" for p in parts)


def artifact_name(filters: dict) -> str:
    return f"content{subset_suffix(filters)}.json"


def write_content(result: ContentAnalysis, artifacts_dir: Path, figures: dict[str, str] | None = None) -> Path:
    return write_json(Path(artifacts_dir) / artifact_name(result.filters), to_payload(result, figures))
