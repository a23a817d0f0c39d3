"""Supervised fake-account classifier on account-level profile features, validated on real labelled data.

Trained and cross-validated on two public hand-labelled Instagram sets read at run time from the
shared data folder (never copied into the repo): SRF Data's fake followers (2017, CC BY-SA 4.0) and
InstaFake (Akyon & Kalfaoglu 2019, CC BY-NC 4.0, non-commercial). Features both sets share: followers,
following, posts, profile picture, private account, username length and digits.

Use: score a sample of a creator's followers (a profile export) and read the share that looks fake.
The demo store has no follower profiles, so the notebook reports the validation only.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_score, recall_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from shopkpi.errors import NoDataError

REAL_DATA_ENV = "SHOPKPI_REAL_DATA"
DATASETS = {"instagram_fake_followers_srf": "accounts.csv", "instafake_fake_accounts": "accounts.csv"}
PROFILE_COLUMNS = ["followers", "following", "posts", "has_profile_picture", "is_private", "username_length",
                   "username_digits"]
TARGET_PRECISION = 0.8  # the operating point: the most recall at this precision, chosen inside training folds


def real_data_root() -> Path:
    """The shared real-data folder: $SHOPKPI_REAL_DATA, else ../shared/data/real beside the repository."""
    env = os.environ.get(REAL_DATA_ENV)
    return Path(env) if env else Path(__file__).resolve().parents[3].parent / "shared" / "data" / "real"


def load_labelled_accounts(root: Path | None = None) -> pd.DataFrame:
    """Both labelled sets mapped to PROFILE_COLUMNS plus `is_fake` and `source`."""
    root = root or real_data_root()
    frames = []
    for name, file in DATASETS.items():
        path = root / name / file
        if not path.exists():
            raise NoDataError(f"{path}: labelled account data not found (set ${REAL_DATA_ENV} to the real-data folder)")
        d = pd.read_csv(path)
        if name == "instagram_fake_followers_srf":
            mapped = pd.DataFrame({
                "followers": d["Number.of.followers"], "following": d["Number.of.people.they.follow"],
                "posts": d["Number.of.posts"], "has_profile_picture": d["has_profile_picture"].astype(int),
                "is_private": d["Private.account"].astype(int), "username_length": d["username_length"],
                "username_digits": d["username_digit_count"], "is_fake": d["rating"].astype(int)})
        else:
            mapped = pd.DataFrame({
                "followers": d["userFollowerCount"], "following": d["userFollowingCount"], "posts": d["userMediaCount"],
                "has_profile_picture": d["userHasProfilPic"], "is_private": d["userIsPrivate"],
                "username_length": d["usernameLength"], "username_digits": d["usernameDigitCount"],
                "is_fake": d["isFake"]})
        frames.append(mapped.assign(source=name))
    return pd.concat(frames, ignore_index=True)


def features(profiles: pd.DataFrame) -> pd.DataFrame:
    """Model inputs from profile columns: log counts, following/followers and the digit share of the username."""
    p = profiles[PROFILE_COLUMNS].astype(float)
    return pd.DataFrame({
        "log_followers": np.log1p(p["followers"]), "log_following": np.log1p(p["following"]),
        "log_posts": np.log1p(p["posts"]),
        "log_following_per_follower": np.log1p(p["following"]) - np.log1p(p["followers"]),
        "has_profile_picture": p["has_profile_picture"], "is_private": p["is_private"],
        "username_length": p["username_length"],
        "username_digit_share": p["username_digits"] / p["username_length"].where(p["username_length"] > 0, 1),
    })


def make_model(kind: str = "forest", seed: int = 0):
    if kind == "forest":
        return RandomForestClassifier(n_estimators=200, min_samples_leaf=2, class_weight="balanced_subsample",
                                      oob_score=True, random_state=seed, n_jobs=1)
    if kind == "logistic":
        return make_pipeline(StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=1000))
    raise ValueError(f"unknown model kind {kind!r}")


def operating_threshold(y: np.ndarray, score: np.ndarray, target_precision: float = TARGET_PRECISION) -> float:
    """The lowest threshold whose precision reaches the target (most recall); the best-precision one if none does."""
    best, best_precision = 0.5, -1.0
    for threshold in np.unique(score)[::-1]:
        flagged = score >= threshold
        precision = y[flagged].mean()
        if precision >= target_precision:
            best = threshold
        elif best_precision < 0 or precision > best_precision:
            best_precision = precision
    return float(best)


def cross_validate(data: pd.DataFrame, kind: str = "forest", folds: int = 5, seed: int = 0) -> dict:
    """Out-of-fold ROC AUC and precision/recall at the operating point (threshold picked without the test fold)."""
    x, y = features(data).to_numpy(), data["is_fake"].to_numpy()
    outer = StratifiedKFold(folds, shuffle=True, random_state=seed)
    score = np.zeros(len(y))
    flagged = np.zeros(len(y), dtype=bool)
    for train, test in outer.split(x, y):
        model = make_model(kind, seed).fit(x[train], y[train])
        # The threshold comes from predictions the model did not train on: out-of-bag for the forest,
        # inner folds for the logistic baseline. The outer test fold never sets it.
        if kind == "forest":
            inner = model.oob_decision_function_[:, 1]
        else:
            inner = cross_val_predict(make_model(kind, seed), x[train], y[train], method="predict_proba",
                                      cv=StratifiedKFold(3, shuffle=True, random_state=seed))[:, 1]
        threshold = operating_threshold(y[train], np.nan_to_num(inner, nan=0.0))
        score[test] = model.predict_proba(x[test])[:, 1]
        flagged[test] = score[test] >= threshold
    return {"model": kind, "accounts": int(len(y)), "fake": int(y.sum()), "folds": folds,
            "roc_auc": float(roc_auc_score(y, score)), "target_precision": TARGET_PRECISION,
            "precision": float(precision_score(y, flagged, zero_division=0)),
            "recall": float(recall_score(y, flagged)), "flagged": int(flagged.sum())}


def transfer(data: pd.DataFrame, train_on: str, kind: str = "forest", seed: int = 0) -> dict:
    """Train on one source, score the other: does the classifier carry over to accounts labelled elsewhere?"""
    train, test = data[data["source"] == train_on], data[data["source"] != train_on]
    model = make_model(kind, seed).fit(features(train).to_numpy(), train["is_fake"].to_numpy())
    score = model.predict_proba(features(test).to_numpy())[:, 1]
    return {"train": train_on, "test": str(test["source"].iloc[0]), "roc_auc": float(roc_auc_score(test["is_fake"], score))}


def validation_report(root: Path | None = None, seed: int = 0) -> dict:
    """Cross-validated metrics per source and pooled (forest and a logistic baseline), plus cross-source transfer."""
    data = load_labelled_accounts(root)
    per_source = {name: cross_validate(d, "forest", seed=seed) for name, d in data.groupby("source")}
    return {
        "datasets": sorted(DATASETS), "per_source": per_source,
        "pooled": cross_validate(data, "forest", seed=seed),
        "pooled_logistic": cross_validate(data, "logistic", seed=seed),
        "transfer": [transfer(data, name, seed=seed) for name in sorted(DATASETS)],
    }


def fit(root: Path | None = None, seed: int = 0):
    """The forest trained on both labelled sets, for scoring follower profile samples."""
    data = load_labelled_accounts(root)
    return make_model("forest", seed).fit(features(data).to_numpy(), data["is_fake"].to_numpy())


def fake_share(model, profiles: pd.DataFrame, threshold: float = 0.5) -> float:
    """Share of a follower sample the model calls fake."""
    missing = [c for c in PROFILE_COLUMNS if c not in profiles]
    if missing:
        raise NoDataError(f"follower profiles lack columns {missing}")
    return float((model.predict_proba(features(profiles).to_numpy())[:, 1] >= threshold).mean())


MODEL_VERSION = 1  # bump when the features, models or validation change: cached reports are keyed by it


def _cache_file(root: Path) -> Path | None:
    """Where this validation is cached: keyed by the labelled files' bytes, this code's version and sklearn's."""
    import hashlib
    import json

    import sklearn

    digest = hashlib.sha256(json.dumps([MODEL_VERSION, sklearn.__version__]).encode())
    for name in sorted(DATASETS):
        file = root / name / DATASETS[name]
        if not file.exists():
            return None
        digest.update(file.read_bytes())
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "shopkpi"
    return base / f"account_classifier_{digest.hexdigest()[:20]}.json"


def classifier_summary(root: Path | None = None) -> dict:
    """validation_report() with status "ok", or status "unavailable" and why (the real data is absent).

    The report depends only on the public labelled sets and this code, so it is computed once per machine
    (about half a minute) and read back by later runs; no client data is involved.
    """
    import json

    root = root or real_data_root()
    cache = _cache_file(root)
    if cache is not None and cache.exists():
        return json.loads(cache.read_text(encoding="utf-8"))
    try:
        summary = {"status": "ok", **validation_report(root)}
    except NoDataError as exc:
        return {"status": "unavailable", "reason": str(exc)}
    if cache is not None:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(summary), encoding="utf-8")
            os.replace(tmp, cache)
        except OSError:
            pass  # a read-only home only costs the recomputation
    return summary
