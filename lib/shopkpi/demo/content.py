"""Creator videos: features, planted content effects, counts drawn from them, and the orders they drive.

Counts follow views ~ NegBin(mu_views), product clicks ~ Poisson(views * CTR * product share),
orders ~ Binomial(clicks, CTOR), with multiplicative lifts per feature level (see LIFTS) and
controls for creator size (followers ** FOLLOWER_ELASTICITY), market and category.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from shopkpi.demo.clock import DAY, HOUR, day_start, random_time_of_day
from shopkpi.demo.ids import increasing_ids
from shopkpi.demo.markets import MARKET_CODES
from shopkpi.demo.texts import captions

FEATURE_LEVELS: dict[str, list[str]] = {
    "hook": ["none", "question", "problem", "result-first", "unboxing", "price-shock"],
    "script": ["review", "problem-solution", "demo", "story", "list"],
    "bgm": ["original", "trending", "licensed-library", "voiceover-only"],
    "format": ["talking-head", "hands-only", "before-after", "slideshow"],
    "presenter": ["creator", "brand-staff", "ai-avatar"],
    "language": ["en", "th"],
    "weekday": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
}
FEATURE_PROBS: dict[str, list[float]] = {
    "hook": [0.25, 0.18, 0.17, 0.15, 0.13, 0.12],
    "script": [0.25, 0.22, 0.2, 0.18, 0.15],
    "format": [0.35, 0.30, 0.18, 0.17],
    "presenter": [0.8, 0.12, 0.08],
}
# Multiplicative lifts vs the first level of each feature; anything not listed is exactly 1.0.
LIFTS: dict[str, dict[str, dict[str, float]]] = {
    "views": {"bgm": {"trending": 1.40, "voiceover-only": 0.85}, "hook": {"result-first": 1.15},
              "format": {"slideshow": 0.75}},
    "ctr": {"hook": {"question": 1.35, "problem": 1.15}, "format": {"before-after": 1.30}},
    "ctor": {"hook": {"price-shock": 1.25}, "script": {"demo": 1.20}},
}
BASE_CTR = 0.012
BASE_CTOR = 0.055
FOLLOWER_ELASTICITY = 0.7
MARKET_FACTORS = {"views": {"UK": 1.0, "TH": 1.5}, "ctr": {"UK": 1.0, "TH": 1.15}, "ctor": {"UK": 1.0, "TH": 0.85}}
CATEGORY_FACTORS = {
    "ctr": {"KIT": 1.0, "STO": 0.95, "BTH": 0.9, "CLN": 1.05, "LGT": 1.1, "BEA": 1.15, "SKN": 1.1, "HAI": 1.0},
    "ctor": {"KIT": 1.0, "STO": 1.05, "BTH": 0.95, "CLN": 1.1, "LGT": 0.9, "BEA": 1.0, "SKN": 1.15, "HAI": 0.95},
}
PRICE_ELASTICITY_CTOR = -0.3  # CTOR * (unit price / market median price) ** this
FAKE_VIEW_BOOST = 8.0  # bought views (bots): views high relative to followers
FAKE_CTR_FACTOR = 0.2  # bots do not click products
VIEW_NB_SHAPE = 1.3
VIDEO_NOISE_SD = 0.1  # per-video lognormal random effect on CTR and CTOR
KERNEL_DAYS = 14
KERNEL = np.exp(-np.arange(KERNEL_DAYS) / 2.2)
KERNEL = KERNEL / KERNEL.sum()
EXTRA_LINE_PROB = 0.12  # a content order adds a second variant of the same product
SHOWCASE_SHARE = 0.06  # content orders credited to the creator's showcase instead of the video
SECOND_PRODUCT_PROB = 0.2
CAPACITY_SHARE = 0.45  # a video should not expect more than this share of its product's demand over 14 days
EXPERIMENTS = [
    {"name": "cover-test-03", "metric": "ctr", "true_lift_b_vs_a": 1.30, "powered": True},
    {"name": "caption-test-07", "metric": "ctor", "true_lift_b_vs_a": 1.10, "powered": False},
]


@dataclass
class VideoSet:
    videos: pd.DataFrame  # one row per video
    rows: pd.DataFrame  # one row per video x product
    experiments: list[dict[str, Any]] = field(default_factory=list)
    view_scale: dict[str, float] = field(default_factory=dict)


def completion_rate(duration_s: np.ndarray) -> np.ndarray:
    """Planted: share watching to the end falls with length (no effect on views/CTR/CTOR)."""
    return np.clip(0.55 * np.exp(-(np.asarray(duration_s) - 7) / 30.0), 0.01, 0.9)


def lift(metric: str, feature: str, values: np.ndarray) -> np.ndarray:
    table = LIFTS[metric].get(feature, {})
    return np.array([table.get(v, 1.0) for v in values.tolist()])


def _sample_levels(rng: np.random.Generator, feature: str, n: int) -> np.ndarray:
    levels = FEATURE_LEVELS[feature]
    return np.array(levels, dtype=object)[rng.choice(len(levels), size=n, p=FEATURE_PROBS[feature])]


def posting_weights(mega_days: np.ndarray, n_hist: int) -> np.ndarray:
    """More posts as the programme grows and in the 10 days before mega sales."""
    t = (np.arange(n_hist) - n_hist) / 365.25
    w = np.exp(0.6 * t)
    lead = np.zeros(n_hist, dtype=bool)
    for d in np.flatnonzero(mega_days[:n_hist + 10]):
        lead[max(0, d - 10):min(n_hist, d)] = True
    return w * np.where(lead, 1.6, 1.0)


def product_demand(skus: pd.DataFrame, lam: np.ndarray) -> np.ndarray:
    n_prod = int(skus["product_idx"].max()) + 1
    out = np.zeros((n_prod,) + lam.shape[1:])
    np.add.at(out, skus["product_idx"].to_numpy(), lam)
    return out


@dataclass
class Variants:
    """Which SKU an attributed order of a product lands on: per product, SKU indices and day-specific shares."""

    sku_of: np.ndarray  # n_prod x 3, padded with -1
    cum: np.ndarray  # n_prod x M x D x 3 cumulative shares of the product's demand that day
    count: np.ndarray  # n_prod

    def probs(self, products: np.ndarray, markets: np.ndarray, days: np.ndarray) -> np.ndarray:
        c = self.cum[products, markets, days, :]
        return np.diff(np.concatenate([np.zeros((len(products), 1)), c], axis=1), axis=1)

    def pick(self, rng: np.random.Generator, products: np.ndarray, markets: np.ndarray,
             days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Main SKU per order and an optional second variant (-1 when none)."""
        days = np.minimum(days, self.cum.shape[2] - 1)
        u = rng.random(len(products))
        variant = (u[:, None] > self.cum[products, markets, days, :]).sum(axis=1)
        variant = np.minimum(variant, self.count[products] - 1)
        main = self.sku_of[products, variant]
        k = self.count[products]
        extra = (k >= 2) & (rng.random(len(products)) < EXTRA_LINE_PROB)
        offset = 1 + (rng.random(len(products)) * np.maximum(k - 1, 1)).astype(np.int64)
        other = self.sku_of[products, (variant + offset) % np.maximum(k, 1)]
        return main, np.where(extra, other, -1)

    def add_expected(self, out: np.ndarray, products: np.ndarray, markets: np.ndarray, days: np.ndarray,
                     orders: np.ndarray) -> None:
        """Add expected lines per (sku, market, day) for expected orders of products on days."""
        ok_day = days < out.shape[2]
        products, markets, days, orders = products[ok_day], markets[ok_day], days[ok_day], orders[ok_day]
        probs = self.probs(products, markets, days)
        k = self.count[products]
        for j in range(3):
            sku = self.sku_of[products, j]
            ok = sku >= 0
            w = probs[:, j]
            per_sku = w + EXTRA_LINE_PROB * (1 - w) / np.maximum(k - 1, 1) * (k >= 2)
            np.add.at(out, (sku[ok], markets[ok], days[ok]), (orders * per_sku)[ok])


def variant_tables(skus: pd.DataFrame, lam: np.ndarray) -> Variants:
    """Shares follow each variant's own demand that day (variants have their own trends and seasons)."""
    n_prod = int(skus["product_idx"].max()) + 1
    sku_of = np.full((n_prod, 3), -1, dtype=np.int64)
    n_m, n_d = lam.shape[1], lam.shape[2]
    cum = np.ones((n_prod, n_m, n_d, 3))
    count = np.zeros(n_prod, dtype=np.int64)
    for p, group in skus.groupby("product_idx", sort=True):
        idx = group["sku_idx"].to_numpy()
        sku_of[p, : len(idx)] = idx
        count[p] = len(idx)
        w = lam[idx]  # k x M x D
        tot = w.sum(axis=0, keepdims=True)
        w = np.where(tot > 0, w / np.where(tot > 0, tot, 1), 1 / len(idx))
        c = np.cumsum(np.moveaxis(w, 0, -1), axis=-1)  # M x D x k
        cum[p, :, :, : len(idx)] = c
        cum[p, :, :, len(idx) - 1:] = 1.0
    return Variants(sku_of=sku_of, cum=cum, count=count)


def expected_lines_per_order(count: np.ndarray) -> np.ndarray:
    return 1 + EXTRA_LINE_PROB * (count >= 2)


def build_videos(
    rng: np.random.Generator,
    n_videos: int,
    creators: pd.DataFrame,
    skus: pd.DataFrame,
    prod_lam: np.ndarray,
    mega_days: dict[str, np.ndarray],
    start_date: dt.date,
    n_hist: int,
    n_pairs: dict[str, int],
    target_lines: dict[str, float],
) -> VideoSet:
    """Plan videos (creator, time, products, features) and their expected rates; no counts yet."""
    posts = _sample_posts(rng, n_videos, creators, mega_days, start_date, n_hist)
    features = _sample_features(rng, posts["market"], posts["followers_real"])
    main, second = _assign_products(rng, posts, skus, prod_lam, n_hist, target_lines)
    videos = pd.DataFrame({**posts, "main_product": main, "second_product": second, **features,
                           "experiment": "", "arm_lift_ctr": 1.0, "arm_lift_ctor": 1.0})
    videos, experiments = _add_experiment_pairs(rng, videos, n_pairs, n_hist)
    videos = videos.sort_values(["post_ts", "creator_idx"], kind="stable").reset_index(drop=True)
    videos["video_idx"] = np.arange(len(videos))
    videos["video_id"] = increasing_ids(rng, len(videos), "74", 19)
    dow = (videos["post_ts"].to_numpy() // DAY + 3) % 7
    videos["weekday"] = np.array(FEATURE_LEVELS["weekday"], dtype=object)[dow]
    for exp in experiments:
        arms = videos[videos["experiment"].str.startswith(exp["name"] + ":")]
        exp["pairs"] = []
        for key in sorted(arms["pair_key"].unique().tolist()):
            ids = arms[arms["pair_key"] == key].sort_values("experiment")["video_id"].tolist()
            exp["pairs"].append({"A": ids[0], "B": ids[1]})
        exp["n_pairs"] = len(exp["pairs"])
    _expected_rates(rng, videos, skus)
    return VideoSet(videos=videos, rows=_product_rows(videos), experiments=experiments)


def _sample_posts(rng: np.random.Generator, n_videos: int, creators: pd.DataFrame, mega_days: dict[str, np.ndarray],
                  start_date: dt.date, n_hist: int) -> dict[str, np.ndarray]:
    """Who posts when: videos per creator follow activity; days follow the posting calendar."""
    active = creators[creators["activity"] > 0]
    per_creator = rng.multinomial(n_videos, (active["activity"] / active["activity"].sum()).to_numpy())
    creator_idx = np.repeat(active["creator_idx"].to_numpy(), per_creator)
    n = len(creator_idx)
    cr = creators.set_index("creator_idx").loc[creator_idx]
    market = cr["market"].to_numpy()
    m_idx = np.array([MARKET_CODES.index(m) for m in market], dtype=np.int64)
    post_day = np.zeros(n, dtype=np.int64)
    for m, code in enumerate(MARKET_CODES):
        sel = m_idx == m
        w = posting_weights(mega_days[code], n_hist)
        post_day[sel] = rng.choice(n_hist, size=int(sel.sum()), p=w / w.sum())
    post_hour = rng.choice(np.arange(10, 23), size=n, p=_POST_HOUR_P)
    post_ts = day_start(start_date, post_day) + post_hour * HOUR + rng.integers(0, HOUR, size=n)
    return {"creator_idx": creator_idx, "market": market, "m_idx": m_idx, "post_day": post_day, "post_ts": post_ts,
            "followers_real": cr["followers_real"].to_numpy().astype(float),
            "is_fake_creator": cr["is_fake"].to_numpy(), "conv_mult": cr["conv_mult"].to_numpy()}


def _sample_features(rng: np.random.Generator, market: np.ndarray, followers: np.ndarray) -> dict[str, np.ndarray]:
    n = len(market)
    # Bigger creators chase trending sounds more: a confounder that follower controls remove.
    p_trend = np.clip(0.15 + 0.08 * (np.log10(followers) - 4), 0.08, 0.5)
    u = rng.random(n)
    rest = 1 - p_trend
    bgm = np.where(u < p_trend, "trending",
                   np.where(u < p_trend + rest * 0.5, "original",
                            np.where(u < p_trend + rest * 0.79, "licensed-library", "voiceover-only"))).astype(object)
    hook = _sample_levels(rng, "hook", n)
    # Thai sellers lean on price hooks; market is a control in the model.
    hook[(market == "TH") & (rng.random(n) < 0.08)] = "price-shock"
    return {
        "hook": hook, "script": _sample_levels(rng, "script", n), "bgm": bgm,
        "format": _sample_levels(rng, "format", n), "presenter": _sample_levels(rng, "presenter", n),
        "language": np.where(market == "UK", "en", np.where(rng.random(n) < 0.8, "th", "en")).astype(object),
        "duration_s": np.clip(rng.lognormal(np.log(28), 0.5, size=n), 7, 180).round().astype(np.int64),
    }


def _assign_products(rng: np.random.Generator, posts: dict[str, np.ndarray], skus: pd.DataFrame,
                     prod_lam: np.ndarray, n_hist: int, target_lines: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Main (and optional second) product per video, keeping each product's video-driven load near its demand.

    Content features are left out on purpose: product choice must not depend on them (no confounding).
    """
    m_idx, post_day = posts["m_idx"], posts["post_day"]
    n = len(m_idx)
    fake = posts["is_fake_creator"]
    mf = {k: np.array([MARKET_FACTORS[k][MARKET_CODES[m]] for m in m_idx]) for k in ("views", "ctr", "ctor")}
    # Expected orders per video before product factors (k = 1), to place big videos on products that can carry them.
    e = (posts["followers_real"] ** FOLLOWER_ELASTICITY * mf["views"]
         * np.where(fake, FAKE_VIEW_BOOST * FAKE_CTR_FACTOR, 1.0)
         * BASE_CTR * mf["ctr"] * BASE_CTOR * mf["ctor"] * posts["conv_mult"])
    kappa = product_kappa(skus)  # n_prod x M
    n_prod = prod_lam.shape[0]
    lam_total = prod_lam[:, :, :n_hist].sum(axis=2)
    k_est = np.zeros(len(MARKET_CODES))
    for m in range(len(MARKET_CODES)):
        kbar = lam_total[:, m].sum() / (lam_total[:, m] / kappa[:, m]).sum()
        k_est[m] = target_lines[MARKET_CODES[m]] / max((e[m_idx == m] * kbar).sum(), 1e-12)
    lam_now = prod_lam[:, m_idx, post_day].T  # n x n_prod
    expected_if = (k_est[m_idx] * e)[:, None] * kappa[:, m_idx].T
    capacity = CAPACITY_SHARE * KERNEL_DAYS * lam_now
    fit = np.minimum(1.0, np.divide(capacity, expected_if, out=np.zeros_like(capacity), where=expected_if > 0)) ** 2
    base = lam_now / kappa[:, m_idx].T * fit
    base = np.where(base.sum(axis=1, keepdims=True) > 0, base, lam_now)
    # Balanced random assignment: biggest videos first, each product's chance shrinks as its share of the
    # expected video-driven lines fills up, so no product is far over- or under-promoted.
    target = lam_total / lam_total.sum(axis=0, keepdims=True) * np.array([target_lines[c] for c in MARKET_CODES])
    load = np.zeros_like(target)
    main = np.zeros(n, dtype=np.int64)
    for i in np.argsort(-(k_est[m_idx] * e), kind="stable").tolist():
        m = m_idx[i]
        room = np.clip(1 - load[:, m] / np.maximum(target[:, m], 1e-12), 0.02, 1.0)
        w = base[i] * room
        w = w / w.sum()
        p = min(int((rng.random() > np.cumsum(w)).sum()), n_prod - 1)
        main[i] = p
        load[p, m] += expected_if[i, p]
    weights = base / base.sum(axis=1, keepdims=True)
    product_cat = skus.groupby("product_idx")["category_code"].first().to_numpy()
    second = np.full(n, -1, dtype=np.int64)
    for i in np.flatnonzero(rng.random(n) < SECOND_PRODUCT_PROB):
        same = (product_cat == product_cat[main[i]]) & (weights[i] > 0)
        same[main[i]] = False
        if same.any():
            w = weights[i] * same
            second[i] = int(rng.choice(n_prod, p=w / w.sum()))
    return main, second


def _expected_rates(rng: np.random.Generator, videos: pd.DataFrame, skus: pd.DataFrame) -> None:
    """Unscaled expected views, CTR and CTOR per video: the planted truth lives here."""
    product_cat = skus.groupby("product_idx")["category_code"].first().to_numpy()
    cat = product_cat[videos["main_product"].to_numpy()]
    price = skus.groupby("product_idx")[[f"price_cents_{m}" for m in MARKET_CODES]].first().to_numpy()
    med = np.median(price, axis=0)
    m_idx = videos["m_idx"].to_numpy()
    unit_price_rel = price[videos["main_product"].to_numpy(), m_idx] / med[m_idx]
    mk = videos["market"].to_numpy()
    fake = videos["is_fake_creator"].to_numpy()
    lv, lc, lo = _feature_lifts({f: videos[f].to_numpy() for f in ("hook", "script", "bgm", "format", "presenter",
                                                                    "language", "weekday")})
    videos["mu_views_unscaled"] = (videos["followers_real"].to_numpy() ** FOLLOWER_ELASTICITY
                                   * np.array([MARKET_FACTORS["views"][m] for m in mk]) * lv
                                   * np.where(fake, FAKE_VIEW_BOOST, 1.0))
    noise_c = rng.lognormal(0, VIDEO_NOISE_SD, size=len(videos))
    noise_o = rng.lognormal(0, VIDEO_NOISE_SD, size=len(videos))
    videos["ctr"] = np.clip(
        BASE_CTR * lc * np.array([MARKET_FACTORS["ctr"][m] for m in mk])
        * np.array([CATEGORY_FACTORS["ctr"][c] for c in cat]) * videos["arm_lift_ctr"].to_numpy() * noise_c
        * np.where(fake, FAKE_CTR_FACTOR, 1.0), 0, 0.2)
    videos["ctor"] = np.clip(
        BASE_CTOR * lo * np.array([MARKET_FACTORS["ctor"][m] for m in mk])
        * np.array([CATEGORY_FACTORS["ctor"][c] for c in cat]) * unit_price_rel ** PRICE_ELASTICITY_CTOR
        * videos["conv_mult"].to_numpy() * videos["arm_lift_ctor"].to_numpy() * noise_o, 0, 0.5)
    videos["category_code"] = cat


def _product_rows(videos: pd.DataFrame) -> pd.DataFrame:
    """One row per video x product; a second product takes 30% of the video's product interest."""
    has_second = videos["second_product"].to_numpy() >= 0
    parts = []
    for col, is_main in (("main_product", True), ("second_product", False)):
        sel = videos[col].to_numpy() >= 0
        parts.append(pd.DataFrame({
            "video_idx": videos["video_idx"].to_numpy()[sel],
            "product_idx": videos[col].to_numpy()[sel],
            "share": np.where(has_second, 0.7, 1.0)[sel] if is_main else np.full(int(sel.sum()), 0.3),
            "is_main": is_main,
        }))
    rows = pd.concat(parts, ignore_index=True).sort_values(["video_idx", "is_main"], ascending=[True, False])
    return rows.reset_index(drop=True)


def _feature_lifts(values: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(next(iter(values.values())))
    lv, lc, lo = np.ones(n), np.ones(n), np.ones(n)
    for feature, vals in values.items():
        lv *= lift("views", feature, vals)
        lc *= lift("ctr", feature, vals)
        lo *= lift("ctor", feature, vals)
    return lv, lc, lo


def product_kappa(skus: pd.DataFrame) -> np.ndarray:
    """Relative expected lines per product click, per product x market (category, price, variants)."""
    prod = skus.groupby("product_idx").agg(cat=("category_code", "first"), n_var=("n_variants", "first"),
                                           **{f"p_{m}": (f"price_cents_{m}", "first") for m in MARKET_CODES})
    out = np.zeros((len(prod), len(MARKET_CODES)))
    for m, code in enumerate(MARKET_CODES):
        price = prod[f"p_{code}"].to_numpy()
        out[:, m] = (np.array([CATEGORY_FACTORS["ctr"][c] * CATEGORY_FACTORS["ctor"][c] for c in prod["cat"]])
                     * (price / np.median(price)) ** PRICE_ELASTICITY_CTOR
                     * expected_lines_per_order(prod["n_var"].to_numpy()))
    return out


_POST_HOUR_P = np.array([1, 1.2, 1.5, 1.3, 1.1, 1.0, 1.1, 1.4, 1.8, 2.2, 2.4, 2.0, 1.2], dtype=float)
_POST_HOUR_P = _POST_HOUR_P / _POST_HOUR_P.sum()


def _add_experiment_pairs(rng: np.random.Generator, videos: pd.DataFrame, n_pairs: dict[str, int],
                          n_hist: int) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Clone chosen videos into A/B pairs (same creator, product, features, day) with a true arm lift."""
    videos = videos.copy()
    videos["pair_key"] = -1
    eligible = np.flatnonzero(
        (videos["post_day"].to_numpy() < n_hist - 20) & (~videos["is_fake_creator"].to_numpy())
        & (videos["second_product"].to_numpy() < 0)
    )
    big_first = eligible[np.argsort(-videos["followers_real"].to_numpy()[eligible], kind="stable")]
    taken: set[int] = set()
    clones = []
    experiments = []
    key = 0
    for exp in EXPERIMENTS:
        want = n_pairs[exp["name"]]
        # Powered test runs on the biggest accounts; the under-powered one on a few mid-sized ones.
        pool = big_first if exp["powered"] else big_first[len(big_first) // 4:]
        chosen = [int(i) for i in pool if int(i) not in taken][:want]
        taken.update(chosen)
        for i in chosen:
            a = videos.loc[i].copy()
            videos.loc[i, "experiment"] = f"{exp['name']}:A"
            videos.loc[i, "pair_key"] = key
            b = a.copy()
            b["experiment"] = f"{exp['name']}:B"
            b["pair_key"] = key
            b["post_ts"] = a["post_ts"] + int(rng.integers(HOUR, 3 * HOUR))
            b["post_day"] = a["post_day"]
            b[f"arm_lift_{exp['metric']}"] = exp["true_lift_b_vs_a"]
            clones.append(b)
            key += 1
        experiments.append({k: v for k, v in exp.items()})
    if clones:
        videos = pd.concat([videos, pd.DataFrame(clones)], ignore_index=True)
    # Keep B on the same local day as A.
    end_of_day = (videos["post_ts"].to_numpy() // DAY) * DAY + DAY - 60
    videos["post_ts"] = np.minimum(videos["post_ts"].to_numpy(), end_of_day)
    return videos, experiments


def scale_views(vs: VideoSet, count: np.ndarray, n_hist: int,
                target_lines: dict[str, float]) -> None:
    """Choose a per-market view scale so expected video-driven lines hit the target share."""
    v = vs.videos
    rows = vs.rows.merge(v[["video_idx", "market", "post_day", "mu_views_unscaled", "ctr", "ctor"]], on="video_idx")
    kept_share = np.array([KERNEL[: max(0, min(KERNEL_DAYS, n_hist - d))].sum() for d in rows["post_day"].to_numpy()])
    lines = (rows["mu_views_unscaled"] * rows["ctr"] * rows["share"] * rows["ctor"]).to_numpy() * kept_share
    lines = lines * expected_lines_per_order(count[rows["product_idx"].to_numpy()])
    for market in MARKET_CODES:
        sel = rows["market"].to_numpy() == market
        total = lines[sel].sum()
        vs.view_scale[market] = float(target_lines[market] / total) if total > 0 else 1.0
    v["mu_views"] = v["mu_views_unscaled"] * v["market"].map(vs.view_scale)


def expected_lines(vs: VideoSet, variants: Variants, shape: tuple) -> np.ndarray:
    """Expected video-driven lines per (sku, market, day), used to carve them out of total demand."""
    out = np.zeros(shape)
    rows = vs.rows.merge(vs.videos[["video_idx", "m_idx", "post_day", "mu_views", "ctr", "ctor"]], on="video_idx")
    orders = (rows["mu_views"] * rows["ctr"] * rows["share"] * rows["ctor"]).to_numpy()
    p = rows["product_idx"].to_numpy()
    m = rows["m_idx"].to_numpy()
    d0 = rows["post_day"].to_numpy()
    for tau in range(KERNEL_DAYS):
        variants.add_expected(out, p, m, d0 + tau, orders * KERNEL[tau])
    return out


def draw_counts(rng: np.random.Generator, vs: VideoSet) -> None:
    """Realised views (final), product clicks and orders per video x product."""
    v = vs.videos
    gamma = rng.gamma(VIEW_NB_SHAPE, v["mu_views"].to_numpy() / VIEW_NB_SHAPE)
    v["views_final"] = rng.poisson(gamma)
    rows = vs.rows.merge(v[["video_idx", "views_final", "ctr", "ctor"]], on="video_idx", how="left")
    clicks = rng.poisson(rows["views_final"].to_numpy() * rows["ctr"].to_numpy() * rows["share"].to_numpy())
    vs.rows["clicks_final"] = clicks
    vs.rows["orders_drawn"] = rng.binomial(clicks, rows["ctor"].to_numpy())


def draw_orders(rng: np.random.Generator, vs: VideoSet, variants: Variants, start_date: dt.date,
                n_hist: int) -> pd.DataFrame:
    """One row per video-driven order (before stock-out censoring), with main and optional extra SKU."""
    rows = vs.rows.merge(vs.videos[["video_idx", "creator_idx", "m_idx", "post_day", "post_ts"]], on="video_idx")
    rep = np.repeat(np.arange(len(rows)), rows["orders_drawn"].to_numpy())
    n = len(rep)
    tau = rng.choice(KERNEL_DAYS, size=n, p=KERNEL)
    day = rows["post_day"].to_numpy()[rep] + tau
    post_ts = rows["post_ts"].to_numpy()[rep]
    same_day_end = (post_ts // DAY) * DAY + DAY
    t_same = post_ts + 60 + (rng.random(n) * np.maximum(same_day_end - post_ts - 120, 1)).astype(np.int64)
    t_later = day_start(start_date, day) + random_time_of_day(rng, n)
    created = np.where(tau == 0, t_same, t_later)
    products = rows["product_idx"].to_numpy()[rep]
    m = rows["m_idx"].to_numpy()[rep]
    main, extra = variants.pick(rng, products, m, day)
    orders = pd.DataFrame({
        "m_idx": m, "day": day, "created_ts": created, "sku_main": main, "sku_extra": extra,
        "video_idx": rows["video_idx"].to_numpy()[rep], "product_idx": products,
        "creator_idx": rows["creator_idx"].to_numpy()[rep],
        "showcase": rng.random(n) < SHOWCASE_SHARE,
    })
    return orders[orders["day"] < n_hist].reset_index(drop=True)


def add_captions(rng: np.random.Generator, vs: VideoSet, skus: pd.DataFrame) -> None:
    v = vs.videos
    prod = skus.groupby("product_idx").first()
    names = prod["product_name"].to_numpy()[v["main_product"].to_numpy()]
    cats = prod["category"].to_numpy()[v["main_product"].to_numpy()]
    prices = np.where(v["market"].to_numpy() == "UK",
                      ["£" + f"{p / 100:.2f}" for p in prod["price_cents_UK"].to_numpy()[v["main_product"].to_numpy()]],
                      ["฿" + f"{p / 100:,.0f}" for p in prod["price_cents_TH"].to_numpy()[v["main_product"].to_numpy()]])
    v["caption"] = captions(rng, v["hook"].to_numpy(), v["language"].to_numpy(), names, cats, prices)


def effects_truth() -> dict[str, Any]:
    """The content_effects block of truth.json."""
    lifts: dict[str, dict[str, dict[str, float]]] = {}
    for metric in ("views", "ctr", "ctor"):
        lifts[metric] = {}
        for feature, levels in FEATURE_LEVELS.items():
            lifts[metric][feature] = {lvl: float(LIFTS[metric].get(feature, {}).get(lvl, 1.0)) for lvl in levels}
    real = [
        {"metric": metric, "feature": f, "level": lvl, "lift": val, "baseline": FEATURE_LEVELS[f][0]}
        for metric in ("views", "ctr", "ctor") for f, levels in LIFTS[metric].items() for lvl, val in levels.items()
    ]
    return {
        "metrics": {
            "views": "organic video views (export 'Views' minus paid views for boosted videos, see ads.boosted_videos)",
            "ctr": "product clicks / views (organic); the export's CTR column is clicks / product impressions, "
                   "impressions = views x U(0.45, 0.8) independent of features, so lifts are the same",
            "ctor": "video-attributed orders / product clicks (about 6% of content orders go to the creator's "
                    "Showcase instead, uniformly, so ratios between levels are unaffected)",
        },
        "baseline_levels": {f: levels[0] for f, levels in FEATURE_LEVELS.items()},
        "lifts": lifts,
        "real_effects": real,
        "no_effect_features": ["presenter", "language", "weekday", "duration_s (on views, CTR and CTOR)"],
        "duration_effect": {
            "metric": "Watched full video (%)",
            "formula": "completion = clip(0.55 * exp(-(duration_s - 7) / 30), 0.01, 0.9) * lognormal(0, 0.15)",
        },
        "model": {
            "views": "views_final ~ NegBin(mean = view_scale[market] * followers_real ** 0.7 * market_factor"
                     " * prod(lift_views) * (8 if fake creator), shape 1.3); export Views = views_final *"
                     " maturity(age) + paid views, maturity = 1 - exp(-(age_days + 0.5) / 2)",
            "product_clicks": "Poisson(views_final * ctr * product_share), product_share 1.0 or 0.7/0.3",
            "orders": "Binomial(product_clicks, ctor), spread over 14 days after posting (kernel exp(-t/2.2))",
            "ctr": f"{BASE_CTR} * prod(lift_ctr) * market_factor * category_factor * arm_lift * lognormal(0, {VIDEO_NOISE_SD})"
                   f" * ({FAKE_CTR_FACTOR} if fake creator)",
            "ctor": f"{BASE_CTOR} * prod(lift_ctor) * market_factor * category_factor * (price/median)**{PRICE_ELASTICITY_CTOR}"
                    f" * creator_conv_mult * arm_lift * lognormal(0, {VIDEO_NOISE_SD})",
            "follower_elasticity_views": FOLLOWER_ELASTICITY,
            "market_factors": MARKET_FACTORS,
            "category_factors": CATEGORY_FACTORS,
            "confounders": "P(bgm=trending) rises with log10(followers); TH videos use price-shock hooks more often."
                           " Control for followers and market.",
            "fit_advice": "Use videos posted >= 14 days before end_date, exclude boosted videos and fake creators"
                          " or control for them; followers_real is truth-only, use the follower snapshot nearest"
                          " the post date.",
        },
    }
