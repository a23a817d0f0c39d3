"""The content dashboard page, rendered from content.json and its figures only.

Import-light (json, html, base64 and labels) like shopkpi.app.dashboard: Voila runs it on every view and
it never recomputes a number. The notebook shows the same sections through these functions.
"""

from __future__ import annotations

import html
import math

from shopkpi.app.dashboard import STYLE, page_language, _figure, format_number, no_artifact_html, read_page_artifact
from shopkpi.dictionary import t

ARTIFACT = "content.json"
FUNNEL_COLUMNS = [("units", "count"), ("views", "count"), ("product_clicks", "count"), ("orders", "count"),
                  ("ctr", "rate"), ("ctor", "rate"), ("gpm", "money"), ("aov", "money")]


def _esc(value) -> str:
    return html.escape(str(value))


def fmt(value, kind: str = "count") -> str:
    return format_number(value, kind)


def _table(head: list[str], rows: list[list[str]]) -> str:
    header = "".join(f"<th>{_esc(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<div class='scroll'><table><tr>{header}</tr>{body}</table></div>"


def tag_label(value, lang: str) -> str:
    """A tag value in the report language (data/i18n/tags.yaml); the client's own words are shown as written."""
    from shopkpi.dictionary import labels

    text = "–" if value is None else str(value)
    entry = labels().get("tag_" + text)
    return entry[lang] if entry else text


def level_name(feature: str, level: str, lang: str) -> str:
    """"Hook: question"; a numeric feature's per-unit lift is named by the feature alone ("Length (per doubling)")."""
    name = t("content_feature_" + feature, lang)
    return name if level == "per_doubling" else f"{name}: {tag_label(level, lang)}"


def window_html(p: dict, lang: str) -> str:
    w = p.get("window") or {}
    if not w:
        return f"<p>{_esc(t('content_no_shop_videos', lang))}</p>"
    return "<p>" + _esc(t("content_window", lang, posted_until=w["posted_until"], mature_before=w["mature_before"],
                             videos=f"{w['videos']:,}", first_post=w["first_post"],
                             export_as_of=str(w["export_as_of"])[:16])) + "</p>"


def combination_line(combination: dict | None, lang: str) -> str | None:
    """"Together: Hook: question + BGM/sound: trending ...: orders per video ×2.9 (95% interval ×2.2 – ×3.8)"."""
    if not combination or not combination.get("levels"):
        return None
    parts = " + ".join(level_name(c["feature"], c["level"], lang) for c in combination["levels"])
    return t("content_combination_line", lang, parts=parts, lift=fmt(combination["lift"], "lift"),
             low=fmt(combination["ci_low"], "lift"), high=fmt(combination["ci_high"], "lift"))


def recommendations_html(p: dict, lang: str) -> str:
    recs = p.get("recommendations") or []
    if not recs:
        return f"<p>{_esc(t('content_no_recommendation', lang))}</p>"
    items = [line for line in [combination_line(p.get("combination"), lang)] if line] + [t("content_repeat_line", lang, what=level_name(r["feature"], r["level"], lang),
               reference=tag_label(r["reference"], lang), metric=t("content_metric_" + r["metric"], lang), lift=fmt(r["lift"], "lift"),
               low=fmt(r["ci_low"], "lift"), high=fmt(r["ci_high"], "lift"), videos=f"{r['videos']:,}")
             for r in recs]
    weak = [r for r in (p.get("effects") or {}).get("lifts", [])
            if not r["significant"] and r["ci_low"] is not None and r["ci_low"] < 1 < r["ci_high"] and r["lift"] >= 1.1
            and r["level"] not in ("not_tagged", "other")]
    if weak:
        names = ", ".join(f"{level_name(r['feature'], r['level'], lang)} ({t('content_metric_' + r['metric'], lang)} {fmt(r['lift'], 'lift')})"
                          for r in sorted(weak, key=lambda r: -r["lift"])[:4])
        items.append(t("content_weak_evidence", lang, names=names))
    return "<ul>" + "".join(f"<li>{_esc(i)}</li>" for i in items) + "</ul>"


def funnel_html(p: dict, group: str, lang: str) -> str:
    rows = (p.get("funnels") or {}).get(group) or []
    kinds = dict(FUNNEL_COLUMNS)
    head = [t("content_feature_" + group, lang) if group not in ("total", "live", "all_time_total") else ""] + [
        t(c if c in ("ctr", "ctor", "gpm") else "content_" + c, lang) for c, _ in FUNNEL_COLUMNS]
    label = {"total": "all", "all_time_total": "all", "live": "unit"}.get(group, group)
    body = [[_esc(r.get(label))] + [fmt(r.get(c), kinds[c]) for c, _ in FUNNEL_COLUMNS] for r in rows]
    return _table(head, body)


def decomposition_html(p: dict, lang: str) -> str:
    d = p.get("decomposition") or {}
    if not d.get("factors"):
        return ""
    cur = p["reporting_currency"]
    head = [t("content_factor", lang), d["previous"], d["current"], t("content_change", lang), f"{t('content_contribution', lang)} ({cur})"]
    body = []
    for f in d["factors"]:
        kind = "count" if f["factor"] == "views" else ("money" if f["factor"] == "aov" else "rate")
        name = t({"views": "content_views", "aov": "content_aov"}.get(f["factor"], f["factor"]), lang)
        change = "–" if f["change"] is None else f"{f['change']:+.1%}"
        body.append([_esc(name), fmt(f["previous"], kind), fmt(f["current"], kind), change, fmt(f["contribution"], "money")])
    total = [_esc(t("content_gmv_videos", lang)), fmt(d["previous_gmv"], "money"), fmt(d["current_gmv"], "money"),
             "–" if not d["previous_gmv"] else f"{d['current_gmv'] / d['previous_gmv'] - 1:+.1%}",
             fmt(d["current_gmv"] - d["previous_gmv"], "money")]
    return _table(head, body + [total])


def effects_html(p: dict, lang: str, significant_only: bool = False) -> str:
    effects = p.get("effects")
    if not effects:
        return f"<p>{_esc(t('content_no_effects', lang))}</p>"
    head = [t(k, lang) for k in ("content_metric", "content_level", "content_reference", "content_lift", "content_interval",
                                  "content_q_value", "content_naive_lift", "content_videos")]
    body = []
    for r in effects["lifts"]:
        if significant_only and not r["significant"]:
            continue
        mark = " ★" if r["significant"] else ""
        body.append([_esc(t("content_metric_" + r["metric"], lang)), _esc(level_name(r["feature"], r["level"], lang)) + mark,
                     _esc(tag_label(r["reference"], lang) if r["reference"] else "–"), fmt(r["lift"], "lift"), f"{fmt(r['ci_low'], 'lift')} – {fmt(r['ci_high'], 'lift')}",
                     f"{r['q_value']:.3f}", fmt(r["naive_lift"], "lift"), fmt(r["videos"])])
    return _table(head, body)


def confounding_html(p: dict, lang: str, top: int = 6) -> str:
    """The levels whose naive (uncontrolled) lift differs most from the controlled one."""
    import math

    lifts = [r for r in (p.get("effects") or {}).get("lifts", []) if r.get("naive_lift") and r["level"] not in ("not_tagged", "other")]
    lifts.sort(key=lambda r: -abs(math.log(r["naive_lift"] / r["lift"])))
    head = [t(k, lang) for k in ("content_metric", "content_level", "content_naive_lift", "content_lift", "content_interval")]
    body = [[_esc(t("content_metric_" + r["metric"], lang)), _esc(level_name(r["feature"], r["level"], lang)),
             fmt(r["naive_lift"], "lift"), fmt(r["lift"], "lift"), f"{fmt(r['ci_low'], 'lift')} – {fmt(r['ci_high'], 'lift')}"]
            for r in lifts[:top]]
    return _table(head, body) if body else ""


def partial_dependence_html(p: dict, lang: str) -> str:
    """Gradient-boosting partial dependence per level beside the controlled lift of the same level."""
    lifts = {(r["metric"], r["feature"], r["level"]): r for r in (p.get("effects") or {}).get("lifts", [])}
    body = []
    for block in p.get("importance") or []:
        for d in block.get("partial_dependence", []):
            glm = lifts.get((block["metric"], d["feature"], d["level"]))
            if glm is None or d["level"] in ("not_tagged", "other") or d["relative"] is None:
                continue
            body.append([_esc(t("content_metric_" + block["metric"], lang)), _esc(level_name(d["feature"], d["level"], lang)),
                         fmt(d["relative"], "lift"), fmt(glm["lift"], "lift") + (" ★" if glm["significant"] else "")])
    head = [t(k, lang) for k in ("content_metric", "content_level", "content_pd", "content_lift")]
    return _table(head, body) if body else ""


def holdout_html(p: dict, lang: str) -> str:
    rows = list(p.get("holdout") or [])
    for s in (p.get("public_videos") or {}).get("sets", []):
        rows.append({"metric": "engagement", "source": s["source"], **s["holdout"]})
    if not rows:
        return ""
    head = [t(k, lang) for k in ("content_metric", "content_rows", "content_creators", "content_d2_model", "content_d2_baseline",
                                  "content_d2_gain", "content_folds_won")]
    body = [[_esc(t("content_metric_" + r["metric"], lang) + (f" · {r['source']}" if r.get("source") else "")), fmt(r["rows"]),
             fmt(r["creators"]), f"{r['d2_model']:.3f}", f"{r['d2_baseline']:.3f}",
             f"{r['d2_gain']:+.3f}" + (f" ± {r['d2_gain_se']:.3f}" if r.get("d2_gain_se") is not None else ""),
             f"{r['folds_won']}/{r['folds']}"] for r in rows]
    return _table(head, body)


def experiments_html(p: dict, lang: str) -> str:
    tests = [e for e in (p.get("experiments") or []) if "lift" in e]
    if not tests:
        return f"<p>{_esc(t('content_no_experiments', lang))}</p>"
    head = [t(k, lang) for k in ("content_experiment", "content_metric", "content_pairs", "content_lift", "content_interval",
                                  "content_detectable", "content_status", "content_more_views")]
    body = [[_esc(e["experiment_id"]), _esc(t("content_metric_" + e["metric"], lang)), fmt(e["pairs"] or e["videos_used"]),
             fmt(e["lift"], "lift"), f"{fmt(e['ci_low'], 'lift')} – {fmt(e['ci_high'], 'lift')}", fmt(e["detectable_lift"], "lift"),
             _esc(t("content_status_" + e["status"], lang)), fmt(e["more_views_needed"]) if not e["powered"] else "–"]
            for e in tests]
    note = t("content_power_note", lang, target=fmt(tests[0]["target_lift"], "lift"))
    return _table(head, body) + f"<p>{_esc(note)}</p>"


def _share_args(life: dict) -> dict:
    out = {"days": life["horizon_days"], "videos": f"{life['videos']:,}"}
    for key, short in (("share_24h", "h24"), ("share_72h", "h72"), ("share_7d", "d7")):
        out |= {short: fmt(life[key]["value"], "share"), f"{short}_low": fmt(life[key]["ci_low"], "share"),
                f"{short}_high": fmt(life[key]["ci_high"], "share")}
    return out


def lifecycle_html(p: dict, lang: str) -> str:
    life = p.get("lifecycle") or {}
    lines = []
    if life.get("views"):
        views = life["views"]
        lines.append(t("content_lifecycle_line", lang, **_share_args(views), first_age=f"{views['first_age_days'][0]:.1f}"))
    if life.get("orders"):
        orders = life["orders"]
        lines.append(t("content_lifecycle_orders_line", lang, **_share_args(orders), orders=f"{orders['orders']:,}"))
    if not life.get("views"):
        lines.append(t("content_lifecycle_missing", lang))
    return "".join(f"<p>{_esc(line)}</p>" for line in lines)


def _pd_value(feature: str, level: str) -> str:
    """A partial-dependence grid value as a reader knows it (followers, not their logarithm)."""
    if feature == "log_followers":
        return f"{math.exp(float(level)):,.0f}"
    return level


def dependence_line(feature: str, rows: list[dict], lang: str) -> str:
    """"Length: 8 ×0.99 · 42 ×0.84 · 93 ×0.77 (against 18)": the model's engagement at each value against the reference."""
    reference = rows[0]["reference"]
    points = " · ".join(f"{_pd_value(feature, r['level'])} {fmt(r['relative'], 'lift')}" for r in rows
                        if r["level"] != reference and r["relative"] is not None)
    return t("content_public_dependence", lang, feature=t("content_feature_" + feature, lang), points=points,
             reference=_pd_value(feature, reference))


def public_html(p: dict, lang: str) -> str:
    sets = (p.get("public_videos") or {}).get("sets") or []
    items = []
    for s in sets:
        top = ", ".join(f"{t('content_feature_' + r['feature'], lang)}" for r in s["importance"][:4] if r["importance"] > 0)
        line = t("content_public_line", lang, source=s["source"], videos=f"{s['videos']:,}",
                 rate=fmt(s["engagement_rate"], "rate"), model=f"{s['holdout']['d2_model']:.3f}",
                 baseline=f"{s['holdout']['d2_baseline']:.3f}", top=top)
        by_feature: dict[str, list[dict]] = {}
        for row in s.get("partial_dependence") or []:
            by_feature.setdefault(row["feature"], []).append(row)
        details = "".join(f"<li>{_esc(dependence_line(f, rows, lang))}</li>" for f, rows in by_feature.items())
        items.append(f"<li>{_esc(line)}" + (f"<ul>{details}</ul>" if details else "") + "</li>")
    if not items:
        return ""
    return "<ul>" + "".join(items) + f"</ul><p>{_esc(t('content_public_note', lang))}</p>"


def missing_html(p: dict, lang: str) -> str:
    missing = p.get("missing") or {}
    if not missing:
        return ""
    # Reasons are a label code (one word) or a sentence from the library naming what was missing.
    items = [f"{t('content_section_' + k, lang)}: {t('content_reason_' + v, lang) if v.isidentifier() else v}"
             for k, v in missing.items()]
    return "<ul>" + "".join(f"<li>{_esc(i)}</li>" for i in items) + "</ul>"


def page_html(client: str, period: str) -> str:
    """The content page for one client and period, from content.json and its figures only (a note when there is none)."""
    found = read_page_artifact(client, period, ARTIFACT)
    if found is None:
        return no_artifact_html("content_no_artifact")
    artifacts, p = found
    lang = page_language(p["language"])
    folder = artifacts / "figures"
    figures = p.get("figures") or {}

    def fig(name):
        return _figure(folder / figures[name], t("content_title", lang)) if name in figures else ""

    sections = [
        ("content_repeat_next_week", recommendations_html(p, lang)),
        ("content_funnel", funnel_html(p, "total", lang) + funnel_html(p, "hook_type", lang) + fig("funnel")),
        ("content_decomposition", decomposition_html(p, lang) + fig("waterfall")),
        ("content_effects", fig("forest") + effects_html(p, lang, significant_only=True)),
        ("content_confounding", confounding_html(p, lang)),
        ("content_crosscheck", holdout_html(p, lang)),
        ("content_experiments", experiments_html(p, lang)),
        ("content_lifecycle", lifecycle_html(p, lang) + fig("lifecycle")),
        ("content_traffic", fig("traffic")),
        ("content_public", public_html(p, lang)),
        ("content_missing", missing_html(p, lang)),
    ]
    body = "".join(f"<h3>{_esc(t(key, lang))}</h3>{content}" for key, content in sections if content)
    return STYLE + (f'<div class="skp" data-page="content" data-client="{_esc(client)}" data-period="{_esc(period)}">'
                    f"<h2>{_esc(t('content_title', lang))} · {_esc(period)}</h2>{window_html(p, lang)}{body}</div>")
