"""Three to five plain-language lines about the content analysis, from content.json only (for the review report).

Import-light like the page: labels and the artifact dict, no pandas, nothing recomputed.
"""

from __future__ import annotations

from shopkpi.content.page import combination_line, level_name, tag_label
from shopkpi.dictionary import t

MAX_LINES = 5
MAX_TESTS = 3  # tests named in the one A/B line; the page lists them all
_FACTOR_LABEL = {"views": "content_views", "aov": "content_aov"}


def _lift(value) -> str:
    return f"×{value:.2f}"


def _funnel_line(p: dict, lang: str) -> str | None:
    total = ((p.get("funnels") or {}).get("total") or [None])[0]
    d = p.get("decomposition") or {}
    if not total or not total.get("units"):
        return None
    change = ""
    if d.get("previous_gmv"):
        driver = max((f for f in d.get("factors") or [] if f.get("contribution") is not None),
                     key=lambda f: abs(f["contribution"]), default=None)
        change = t("content_review_change", lang, change=f"{d['current_gmv'] / d['previous_gmv'] - 1:+.1%}",
                   previous=d["previous"], driver=t(_FACTOR_LABEL.get(driver["factor"], driver["factor"]), lang)
                   if driver else "–")
    rate = lambda key: "–" if total.get(key) is None else f"{total[key]:.2%}"
    return t("content_review_funnel", lang, period=p["period"], videos=f"{total['units']:,.0f}",
             views=f"{total['views']:,.0f}", ctr=rate("ctr"), ctor=rate("ctor"), currency=p["reporting_currency"],
             gmv=f"{total.get('gmv_reporting') or 0:,.0f}", change=change)


def _recommendation_lines(p: dict, lang: str, top: int = 1) -> list[str]:
    if "shop_videos" in (p.get("missing") or {}):  # scraped public videos only: no shop funnel to recommend on
        return []
    if not p.get("effects"):
        return [t("content_review_no_effects", lang)]
    recs = p.get("recommendations") or []
    if not recs:
        return [t("content_no_recommendation", lang)]
    singles = [t("content_review_repeat", lang, what=level_name(r["feature"], r["level"], lang), reference=tag_label(r["reference"], lang),
                 metric=t("content_metric_" + r["metric"], lang), lift=_lift(r["lift"]), low=_lift(r["ci_low"]),
                 high=_lift(r["ci_high"]), videos=f"{r['videos']:,}") for r in recs[:top]]
    together = combination_line(p.get("combination"), lang)
    return ([together] if together else []) + singles


def _experiment_line(p: dict, lang: str) -> str | None:
    tests = [e for e in p.get("experiments") or [] if "lift" in e]
    # One line: the tests that found something or that need more data; "no effect" results of powered tests are left to the page.
    parts = []
    for e in tests:
        metric = t("content_metric_" + e["metric"], lang)
        if e["status"] == "significant":
            parts.append(t("content_review_test_found", lang, test=e["experiment_id"], metric=metric, lift=_lift(e["lift"]),
                           low=_lift(e["ci_low"]), high=_lift(e["ci_high"])))
        elif not e["powered"]:
            parts.append(t("content_review_test_underpowered", lang, test=e["experiment_id"], metric=metric,
                           views=f"{e['more_views_needed']:,.0f}"))
    return t("content_review_tests", lang, tests="; ".join(parts[:MAX_TESTS])) if parts else None


def _lifecycle_line(p: dict, lang: str) -> str | None:
    life = p.get("lifecycle") or {}
    views, orders = life.get("views"), life.get("orders")
    if views:
        return t("content_review_lifecycle_views", lang, h72=f"{views['share_72h']['value']:.0%}", days=views["horizon_days"])
    if orders:
        return t("content_review_lifecycle_orders", lang, h24=f"{orders['share_24h']['value']:.0%}",
                 h72=f"{orders['share_72h']['value']:.0%}", days=orders["horizon_days"])
    return None


def _crosscheck_line(p: dict, lang: str) -> str | None:
    rows = [("shop", r) for r in p.get("holdout") or []]
    rows += [(s["source"], s["holdout"]) for s in (p.get("public_videos") or {}).get("sets") or []]
    if not rows:
        return None
    won = sum(1 for _, r in rows if r["d2_gain"] > 0 and r["folds_won"] > r["folds"] / 2)
    return t("content_review_crosscheck", lang, won=won, total=len(rows))


def review_lines(artifact: dict, language: str) -> list[str]:
    """At most five sentences for the review report, in `language` (zh or en), from the content artifact."""
    lines = [_funnel_line(artifact, language), *_recommendation_lines(artifact, language),
             _experiment_line(artifact, language), _lifecycle_line(artifact, language), _crosscheck_line(artifact, language)]
    return [line for line in lines if line][:MAX_LINES]
