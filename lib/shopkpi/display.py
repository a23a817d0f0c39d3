"""Notebook presentation helpers: headings, number formats and tables in the report language."""

from __future__ import annotations

import html

import pandas as pd
from IPython.display import HTML, display

from shopkpi.dictionary import metric_table, rules, t


# Everything these helpers show is text, escaped: a product or creator name is data from an export and may
# hold markup ("<script>", "<img onerror=...>"); neither Markdown nor nbconvert's HTML export would neutralise it.
def heading(key: str, language: str, level: int = 2, suffix: str = "") -> None:
    display(HTML(f"<h{level}>{html.escape(t(key, language) + suffix)}</h{level}>"))


def bullets(lines: list[str]) -> None:
    display(HTML("<ul>" + "".join(f"<li>{html.escape(str(line))}</li>" for line in lines) + "</ul>"))


def table(df: pd.DataFrame, money: list[str] = (), counts: list[str] = (), percents: list[str] = (),
          decimals: int = 2, left: list[str] | None = None):
    """A Styler with thousands separators; index hidden; `left` overrides which columns are text."""
    formats = {c: f"{{:,.{decimals}f}}" for c in money if c in df}
    formats |= {c: "{:,.0f}" for c in counts if c in df}
    formats |= {c: "{:+.1%}" for c in percents if c in df}
    # Text columns read left to right; numbers line up on the right.
    text = left if left is not None else [
        c for c in df.columns if c not in formats and (df[c].dtype == object or pd.api.types.is_string_dtype(df[c]))]
    # Cell text is escaped in the data itself, so no later .format() call on the Styler can undo it.
    df = df.copy()
    for c in df.columns:
        if df[c].dtype == object or pd.api.types.is_string_dtype(df[c]):
            df[c] = df[c].map(lambda v: html.escape(v) if isinstance(v, str) else v)
    styler = df.style.format(formats, na_rep="–").format_index(escape="html", axis=1).hide(axis="index")
    if text:
        styler = styler.set_properties(subset=text, **{"text-align": "left"})
        styler = styler.set_table_styles([{"selector": f"th.col{df.columns.get_loc(c)}", "props": "text-align: left"} for c in text])
    return styler


def metric_definitions(language: str, keys: list[str] | None = None):
    return table(pd.DataFrame(metric_table(language, keys)))


def rules_dictionary() -> pd.DataFrame:
    """Every flag, non-data and exclusion rule with its definition (English; data/rules.yaml)."""
    r = rules()
    rows = [{"group": "flag", "rule": k, "definition": v["rule"]} for k, v in r["flags"].items()]
    rows += [{"group": "non-data row", "rule": k, "definition": v} for k, v in r["non_data_rows"].items()]
    rows += [{"group": "exclusion", "rule": k, "definition": v} for k, v in r["exclusions"].items()]
    return pd.DataFrame(rows)


def note(text: str) -> None:
    display(HTML(f'<p style="color:#555">{html.escape(text)}</p>'))


def show(obj) -> None:
    """Display a table or figure from inside a loop or branch, where a cell's last value is not shown."""
    display(obj)


def figure_file(path) -> None:
    """Show a figure another notebook saved as an artifact, if it exists."""
    from pathlib import Path

    from IPython.display import Image

    if Path(path).exists():
        display(Image(filename=str(path)))
