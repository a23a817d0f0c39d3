"""Vectorised value parsers (pyarrow.compute) for the text cells of exports.

Each parser returns the typed array and a boolean array marking cells that had text
but could not be parsed, so the caller can quarantine exactly those rows.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc

MONEY_TYPE = pa.decimal128(18, 2)
# Zero-width characters, BOM, soft hyphen, NBSP, tabs and spaces: ID-locale exports end IDs with a tab.
_TRIM = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u00a0\t\r\n "
_EMPTY_MARKERS = ["", "-", "--", "N/A", "n/a", "null", "NULL"]
_CURRENCY = r"(THB|USD|GBP|EUR|VND|IDR|MYR|PHP|SGD|CNY|RMB|JPY|BRL|MXN|KRW|RM|Rp|R\$|MX\$|US\$|S\$|円|[$£€฿¥￥₫₱])"
# Optional sign or parentheses, currency text before or after, digits with separators.
_MONEY_SHAPE = r"^\(?\s*-?\s*" + _CURRENCY + r"?\s*-?\s*[0-9][0-9.,]*\s*" + _CURRENCY + r"?\s*\)?$"


def clean_text(values: pa.Array) -> pa.Array:
    """Strip invisible characters and spaces at both ends; empty cells become null.

    Trimming (not a regex replace) keeps this fast: it runs on every column of every file.
    """
    values = pc.utf8_trim(values.cast(pa.string()), characters=_TRIM)
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)


def _blank_to_null(values: pa.Array) -> pa.Array:
    values = clean_text(values)
    return pc.if_else(pc.is_in(values, pa.array(_EMPTY_MARKERS)), pa.scalar(None, pa.string()), values)


def _failed(original: pa.Array, parsed: pa.Array) -> pa.Array:
    return pc.and_(pc.is_valid(original), pc.is_null(parsed))


# Currencies without minor units: their exports group thousands with dots or commas ("Rp 15.000", "150.000 ₫", "11,000 JPY").
ZERO_DECIMAL_CURRENCIES = {"IDR", "VND", "JPY", "KRW", "CLP"}
# How a market writes money: "dot" (1,049.00), "comma" (1.049,00) or "none" (no minor units: 1.049 or 1,049 is 1049).
DECIMAL_CONVENTIONS = ("dot", "comma", "none")
# Spaces that group thousands in French and other locales ("1 049,00", with a narrow no-break space).
_GROUP_SPACES = "([0-9])[\\s\u00a0\u202f']([0-9]{3})"


def parse_money(values: pa.Array, type_: pa.DataType = MONEY_TYPE, convention: str = "dot") -> tuple[pa.Array, pa.Array]:
    """'THB 1,299.00', '$12.5', '(3.00)', 'BRL 1.049,00', '€35,91', '11,000 JPY', '-' -> exact decimals.

    `convention` is the market's way of writing money (see DECIMAL_CONVENTIONS). A separator followed by
    one or two digits at the end is a decimal mark in every convention, and a value with both marks
    tells its own convention. Only "1,049" and "1.049" (one group, no decimals) depend on the market;
    in a market whose convention makes them three decimals they are refused, never read 1000x apart.
    """
    if convention not in DECIMAL_CONVENTIONS:
        raise ValueError(f"unknown decimal convention {convention!r}; expected one of {DECIMAL_CONVENTIONS}")
    text = _blank_to_null(values)
    scale = type_.scale
    integer_digits = type_.precision - type_.scale
    # Fast path: most exports write plain decimals; one regex scan proves it for the whole column.
    # Outside the dot convention only 1-2 decimals are unambiguous ("1.049" is 1049 in Brazil).
    fast_scale = scale if convention == "dot" else 2
    plain = pc.match_substring_regex(text, r"^-?[0-9]{1,%d}(\.[0-9]{1,%d})?$" % (integer_digits, fast_scale))
    if plain.null_count == len(text) or pc.all(pc.fill_null(plain, True)).as_py():
        parsed = text.cast(type_)
        return parsed, _failed(text, parsed)
    negative = pc.or_(pc.match_substring_regex(text, r"^\(.*\)$"), pc.match_substring_regex(text, r"^[^0-9]*-"))
    for _ in range(2):  # matches do not overlap: "1 049 000" needs two passes
        text = pc.replace_substring_regex(text, _GROUP_SPACES, r"\1\2")
    # Currency text is fine, but other letters ("abc12") mean the cell is not money.
    shape_ok = pc.match_substring_regex(text, _MONEY_SHAPE)
    body = pc.replace_substring_regex(text, r"[^0-9.,]", "")
    decimals = r"([.,][0-9]{1,2})" if scale <= 2 else r"([.,]([0-9]{1,2}|[0-9]{4}))"
    comma_grouped = pc.match_substring_regex(body, r"^[0-9]{1,3}(,[0-9]{3})+(\.[0-9]{1,%d})?$" % scale)
    dot_grouped = pc.match_substring_regex(body, r"^[0-9]{1,3}(\.[0-9]{3})+(,[0-9]{1,%d})?$" % scale)
    ungrouped = pc.match_substring_regex(body, r"^[0-9]+%s?$" % decimals)
    # One group and no decimals: "1,049" / "1.049". It is a thousands group unless the market writes that
    # separator as its decimal mark; then it would be three decimals, which money does not have.
    one_group_comma = pc.match_substring_regex(body, r"^[0-9]{1,3},[0-9]{3}$")
    one_group_dot = pc.match_substring_regex(body, r"^[0-9]{1,3}\.[0-9]{3}$")
    if convention == "comma":
        comma_grouped = pc.and_(comma_grouped, pc.invert(one_group_comma))
    elif convention == "dot":
        dot_grouped = pc.and_(dot_grouped, pc.invert(one_group_dot))
    # Normalise to "1049.00": comma-grouped drops commas; dot-grouped and comma-decimal swap the marks.
    comma_decimal = pc.match_substring_regex(body, r"^[0-9]+,[0-9]+$")
    swap = pc.or_(dot_grouped, pc.and_(ungrouped, comma_decimal))
    swapped = pc.replace_substring(pc.replace_substring(body, ".", ""), ",", ".")
    kept = pc.replace_substring(body, ",", "")
    digits = pc.if_else(swap, swapped, kept)
    ok = pc.and_(pc.or_(pc.or_(comma_grouped, dot_grouped), ungrouped), shape_ok)
    ok = pc.and_(ok, pc.match_substring_regex(digits, r"^[0-9]{1,%d}(\.[0-9]+)?$" % integer_digits))
    parsed = pc.if_else(ok, digits, pa.scalar(None, pa.string())).cast(type_)
    parsed = pc.if_else(negative, pc.negate(parsed), parsed)
    return parsed, _failed(text, parsed)


def parse_count(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """'1,234', '12', '1.2K', '3M' -> int64 (abbreviated counts are rounded)."""
    text = pc.replace_substring(_blank_to_null(values), ",", "")
    # Fast path: whole numbers short enough to be exact in the float route below give the same integers.
    whole = pc.match_substring_regex(text, r"^-?[0-9]{1,15}$")
    if whole.null_count == len(text) or pc.all(pc.fill_null(whole, True)).as_py():
        parsed = text.cast(pa.int64())
        return parsed, _failed(text, parsed)
    plain = pc.match_substring_regex(text, r"^-?[0-9]+(\.0+)?$")
    abbreviated = pc.match_substring_regex(text, r"^[0-9]+(\.[0-9]+)?[KkMmBb]$")
    number = pc.replace_substring_regex(text, r"[KkMmBb]$", "")
    multiplier = pc.if_else(
        pc.match_substring_regex(text, r"[Kk]$"), 1e3,
        pc.if_else(pc.match_substring_regex(text, r"[Mm]$"), 1e6, pc.if_else(pc.match_substring_regex(text, r"[Bb]$"), 1e9, 1.0)),
    )
    ok = pc.or_(plain, abbreviated)
    as_float = pc.if_else(ok, number, pa.scalar(None, pa.string())).cast(pa.float64())
    parsed = pc.round(pc.multiply(as_float, multiplier)).cast(pa.int64())
    return parsed, _failed(text, parsed)


_DIRECTIVE = re.compile(r"(%.)")
_TWO_DIGITS = {"%m": pc.month, "%d": pc.day, "%H": pc.hour, "%M": pc.minute, "%S": pc.second}
_DIGITS = {width: pa.array([str(i).zfill(width) for i in range(10**width)], pa.string()) for width in (2, 4)}


def format_time(values: pa.Array, fmt: str) -> pa.Array:
    """pc.strftime(values, fmt) for the layouts exports use (%Y %m %d %H %M %S %I %p and literal text), built
    from integer fields: the same text, about 20 times faster. Other directives go to pc.strftime."""
    pieces = [p for p in _DIRECTIVE.split(fmt) if p]
    if any(p.startswith("%") and p not in {"%Y", "%I", "%p", *_TWO_DIGITS} for p in pieces):
        return pc.strftime(values, format=fmt)

    def padded(numbers: pa.Array, width: int) -> pa.Array:
        # Zero-padded text by lookup (a take), much faster than casting and padding.
        return pc.take(_DIGITS[width], numbers)

    years = pc.year(values) if "%Y" in pieces else None
    if years is not None and not pc.all(pc.fill_null(pc.and_(pc.greater_equal(years, 0), pc.less(years, 10_000)), True)).as_py():
        return pc.strftime(values, format=fmt)
    columns = []
    for piece in pieces:
        if piece == "%Y":
            columns.append(padded(years, 4))
        elif piece in _TWO_DIGITS:
            columns.append(padded(_TWO_DIGITS[piece](values), 2))
        elif piece == "%I":
            hour = pc.hour(values)
            twelve = pc.if_else(pc.equal(hour, 0), 12, pc.if_else(pc.greater(hour, 12), pc.subtract(hour, 12), hour))
            columns.append(padded(twelve, 2))
        elif piece == "%p":
            columns.append(pc.if_else(pc.less(pc.hour(values), 12), "AM", "PM"))
        else:
            columns.append(pa.scalar(piece.replace("%%", "%"), pa.string()))
    if not any(isinstance(c, (pa.Array, pa.ChunkedArray)) for c in columns):
        return pc.strftime(values, format=fmt)
    return pc.binary_join_element_wise(*columns, "")


def parse_timestamp(values: pa.Array, formats: list[str], timezone: str) -> tuple[pa.Array, pa.Array, str | None]:
    """Local wall-clock text -> UTC timestamps, using the layout that parses most cells.

    pyarrow's strptime rolls impossible dates over (31/02 becomes 03/03), so every
    parse is checked by formatting it back; cells that do not round-trip get a strict
    Python check (unpadded layouts pass, impossible dates fail).
    """
    text = _blank_to_null(values)
    n_text = len(text) - text.null_count
    best = (None, None, -1)
    for fmt in formats:
        parsed = pc.strptime(text, format=fmt, unit="s", error_is_null=True)
        n_ok = len(parsed) - parsed.null_count
        if n_ok > best[2]:
            best = (fmt, parsed, n_ok)
        if n_ok == n_text:
            break
    fmt, parsed, _ = best
    if fmt is None:
        return pa.nulls(len(text), pa.timestamp("s", tz="UTC")), pc.is_valid(text), None
    roundtrip = format_time(parsed, fmt)
    suspicious = pc.and_(pc.is_valid(parsed), pc.invert(pc.equal(roundtrip, text)))
    if pc.any(suspicious).as_py():
        fixed = parsed.to_pylist()
        for i in pc.indices_nonzero(suspicious).to_pylist():
            try:
                fixed[i] = dt.datetime.strptime(text[i].as_py(), fmt)
            except ValueError:
                fixed[i] = None
        parsed = pa.array(fixed, pa.timestamp("s"))
    utc = pc.assume_timezone(parsed, timezone=timezone, ambiguous="earliest", nonexistent="earliest")
    utc = utc.cast(pa.timestamp("s", tz="UTC"))
    return utc, _failed(text, utc), fmt


def check_id(values: pa.Array, digits: tuple[int, int] = (6, 20)) -> tuple[pa.Array, pa.Array]:
    """Numeric IDs stay strings; Excel's '5.76E+17' and other non-digit IDs fail."""
    text = _blank_to_null(values)
    ok = pc.match_substring_regex(text, r"^[0-9]{%d,%d}$" % digits)
    parsed = pc.if_else(ok, text, pa.scalar(None, pa.string()))
    return parsed, _failed(text, parsed)


def money_to_decimal(value) -> Decimal | None:
    """Scalar helper for tests and reconciliation."""
    parsed, _ = parse_money(pa.array([value], pa.string()))
    return parsed[0].as_py()


def parse_percent(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """'4.11%' -> 0.0411; a bare number is taken as already a fraction only if it has no % sign."""
    text = pc.replace_substring(_blank_to_null(values), ",", "")
    with_sign = pc.match_substring_regex(text, r"^-?[0-9]+(\.[0-9]+)?\s*%$")
    bare = pc.match_substring_regex(text, r"^-?[0-9]+(\.[0-9]+)?$")
    number = pc.replace_substring_regex(text, r"\s*%$", "")
    ok = pc.or_(with_sign, bare)
    as_float = pc.if_else(ok, number, pa.scalar(None, pa.string())).cast(pa.float64())
    parsed = pc.if_else(with_sign, pc.divide(as_float, 100.0), as_float)
    return parsed, _failed(text, parsed)


_DURATION = r"^(?:(?P<h>[0-9]+)h)?\s*(?:(?P<m>[0-9]+)m(?:in)?)?\s*(?:(?P<s>[0-9]+(?:\.[0-9]+)?)s)?$"
_CLOCK = r"^(?:(?P<h>[0-9]+):)?(?P<m>[0-9]{1,2}):(?P<s>[0-9]{2}(?:\.[0-9]+)?)$"


def parse_duration(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """'1m28s', '2h13m05s', '8.2s', '0:35', '1:02:03', or a bare '15' (seconds) -> seconds (float)."""
    text = _blank_to_null(values)
    bare = pc.match_substring_regex(text, r"^[0-9]+(\.[0-9]+)?$")
    seconds = pc.if_else(bare, text, pa.scalar(None, pa.string())).cast(pa.float64())
    for pattern in (_DURATION, _CLOCK):
        matched = pc.extract_regex(text, pattern)
        ok = pc.and_(pc.is_valid(matched), pc.invert(pc.equal(text, "")))
        parts = [pc.fill_null(pc.struct_field(matched, name).cast(pa.string()), "") for name in ("h", "m", "s")]
        nums = [pc.if_else(pc.equal(p, ""), "0", p).cast(pa.float64()) for p in parts]
        total = pc.add(pc.add(pc.multiply(nums[0], 3600.0), pc.multiply(nums[1], 60.0)), nums[2])
        seconds = pc.if_else(pc.and_(pc.fill_null(ok, False), pc.is_null(seconds)), total, seconds)
    return seconds, _failed(text, seconds)
