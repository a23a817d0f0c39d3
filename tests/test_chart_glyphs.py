"""Chinese chart text must be drawn, not boxes (□□□): the CJK font has to be found by the figures the reports use."""

from __future__ import annotations

import os
import warnings

import pandas as pd
import pytest


def test_a_chinese_report_chart_draws_every_glyph():
    import matplotlib.pyplot as plt

    from shopkpi import plotting
    from shopkpi.dictionary import t

    plotting.setup()
    if plotting.cjk_font() is None:
        if os.environ.get("CI"):
            raise RuntimeError("CI must have a CJK font: scripts/system-deps installs fonts-noto-cjk")
        pytest.skip("no CJK font here (apt-get install fonts-noto-cjk); Chinese chart text would be boxes")
    days = pd.date_range("2026-11-01", periods=7, freq="D")
    daily = pd.DataFrame({"day": list(days) * 2, "market": ["TH"] * 7 + ["UK"] * 7, "gmv_net": range(14)})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = plotting.daily_gmv_figure(daily, "USD", f"Luma Home · {t('daily_net_gmv', 'zh')}")
        fig.canvas.draw()  # glyphs are looked up when the text is drawn
        plt.close(fig)
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert not missing, missing[:3]
