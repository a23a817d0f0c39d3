"""One seaborn style for every figure, and the figures the reports share."""

from __future__ import annotations

import warnings

import matplotlib
import matplotlib.pyplot as plt
import seaborn as sns
from matplotlib import font_manager

_CJK_FONTS = ["Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans SC", "WenQuanYi Micro Hei", "Source Han Sans SC", "SimHei"]
_CJK_FILE_HINTS = ("NotoSansCJK", "wqy", "SourceHanSans")


def cjk_font() -> str | None:
    available = {f.name for f in font_manager.fontManager.ttflist}
    found = next((name for name in _CJK_FONTS if name in available), None)
    if found is None:
        # matplotlib's font cache predates fonts installed later (e.g. by .ci/run): register them directly.
        for path in font_manager.findSystemFonts():
            if any(hint in path for hint in _CJK_FILE_HINTS):
                font_manager.fontManager.addfont(path)
        available = {f.name for f in font_manager.fontManager.ttflist}
        found = next((name for name in _CJK_FONTS if name in available), None)
    return found


def setup() -> None:
    """Theme, fonts, and silence for known third-party deprecation noise in report outputs."""
    warnings.filterwarnings("ignore", category=matplotlib.MatplotlibDeprecationWarning)
    warnings.filterwarnings("ignore", category=FutureWarning, module="seaborn")
    sns.set_theme(style="whitegrid", context="notebook", palette="deep")
    font = cjk_font()
    if font:
        plt.rcParams["font.sans-serif"] = [font, "DejaVu Sans"]
    plt.rcParams["figure.figsize"] = (9, 4)
    plt.rcParams["axes.titleweight"] = "bold"


def daily_gmv_figure(daily, currency: str, caption: str):
    """Stacked-free line chart of daily net GMV per market; chart text is language-neutral."""
    fig, ax = plt.subplots()
    sns.lineplot(data=daily, x="day", y="gmv_net", hue="market", marker="o", markersize=3, ax=ax)
    ax.set_xlim(daily["day"].min(), daily["day"].max())
    ax.set_xlabel("")
    ax.set_ylabel(currency)
    ax.set_title(caption, loc="left", fontsize=10)
    ax.legend(title="")
    fig.autofmt_xdate()
    return fig
