"""Who owns an alert: a person or role from the client's params, so every alert in a review names someone."""

from __future__ import annotations

from shopkpi.dictionary import t

ROLE_SUBJECTS = ("video_editor", "live_host", "ad_buyer")


def owner_of(params, market: str | None, subject: str | None, lang: str) -> str:
    """Who acts on an alert: the role's people in the market, else the market's operator, else the account lead."""
    config = params.targets
    role = subject if subject in ROLE_SUBJECTS else ("live_host" if subject == "live" else "operator")
    people = [p.name for p in config.people if p.role == role and (not market or not p.markets or market in p.markets)]
    if role == "ad_buyer" and market:  # ad buyers own campaigns named like "UK_*"
        people = [p.name for p in config.people if p.role == role and any(c.upper().startswith(market.upper()) for c in p.campaigns)] or people
    if market and people:
        return f"{t('node_' + role, lang)} {', '.join(people)}"
    if not market and params.report.account_lead:
        return f"{t('account_lead', lang)} {params.report.account_lead}"
    operators = [p.name for p in config.people if p.role == "operator" and (not market or market in p.markets)]
    return f"{t('node_operator', lang)} {', '.join(operators)}" if operators else t("owner_unassigned", lang)


def owner_labels(params, market: str | None, subject: str | None) -> dict[str, str]:
    return {lang: owner_of(params, market, subject, lang) for lang in ("en", "zh")}
