"""Print the creator review's validation figures on the demo truth (the numbers quoted in closing notes).

    .venv/bin/python tools/creator_validation_figures.py [--workspace DIR] [--scale 0.3] [--seed 42]

Generates and ingests the demo client in DIR (a temporary folder by default) unless it is already there,
then prints fake-screen precision/recall per window and the Spearman correlation of the ranking with true ROI,
the same quantities tests/test_creators_validation.py asserts on.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd
from scipy import stats


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workspace", default="")
    ap.add_argument("--scale", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    root = Path(a.workspace or tempfile.mkdtemp(prefix="shopkpi-validation-"))
    os.environ["SHOPKPI_WORKSPACE"] = str(root)
    from shopkpi import paths
    from shopkpi.clean import connect_clean
    from shopkpi.creators.analysis import review
    from shopkpi.creators.fake_audience import creator_signals, screen
    from shopkpi.creators.window import Window, window_to
    from shopkpi.demo import generate_demo_client
    from shopkpi.ingest.pipeline import ingest
    from shopkpi.params import load_client_params, resolve_run

    truth_file = root / "data" / "demo" / "truth" / "truth.json"
    if not truth_file.exists():
        project = Path(__file__).resolve().parents[1]
        shutil.copytree(project / "params", root / "params", dirs_exist_ok=True)
        generate_demo_client(paths.client_data_dir("demo"), seed=a.seed, scale=a.scale)
        ingest("demo", load_client_params("demo"))
    truth = json.loads(truth_file.read_text(encoding="utf-8"))
    creators = pd.DataFrame(truth["creators"]["list"]).rename(columns={"handle": "creator"})
    key = ["creator", "market"]
    con = connect_clean("demo")
    start = dt.date.fromisoformat(truth["summary"]["start_date"])
    end = dt.date.fromisoformat(truth["summary"]["end_date"])
    ctx = resolve_run("demo", "", "en")
    for name, window in (("90 days to " + ctx.period.name, window_to(ctx.period, 90)), ("whole history", Window(start, end))):
        s = screen(creator_signals(con, window)).merge(creators[key + ["is_fake"]], on=key)
        tp = int((s["flagged"] & s["is_fake"]).sum())
        print(f"fake screen, {name}: screened {len(s)}, planted fakes active {int(s['is_fake'].sum())}, "
              f"flagged {int(s['flagged'].sum())}, precision {tp / max(int(s['flagged'].sum()), 1):.3f}, "
              f"recall {tp / max(int(s['is_fake'].sum()), 1):.3f}")
    card = review(con, "demo", load_client_params("demo"), Window(start, end)).scorecard
    m = creators.merge(card, on=key, suffixes=("_truth", ""))
    enough = m[(m["orders"] >= 20) & m["roi_truth"].notna()]
    rho_exp = stats.spearmanr(enough["roi_truth"], enough["roi_expected"])[0]
    rho_obs = stats.spearmanr(enough["roi_truth"], enough["roi"])[0]
    rho_gmv = stats.spearmanr(enough["roi_truth"], enough["gmv_net"])[0]
    print(f"ranking over {len(enough)} creators with >= 20 orders: Spearman(true ROI, expected ROI) {rho_exp:.3f}, "
          f"(true ROI, observed ROI) {rho_obs:.3f}, (true ROI, GMV alone) {rho_gmv:.3f}")
    print(f"workspace: {root}")


if __name__ == "__main__":
    main()
