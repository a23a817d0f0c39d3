"""Creator contracts sheet (one row per creator deal) -> `creator_contracts`."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from shopkpi.ingest.columns import typed_columns
from shopkpi.ingest.headers import HeaderMatch
from shopkpi.ingest.importers import Importer, register
from shopkpi.ingest.kinds.creator_snapshots import creator_markets
from shopkpi.ingest.kinds.inventory_plan import sheet_as_of, without_midnight, workbook_saved_at
from shopkpi.ingest.kinds.video_data import creator_handles
from shopkpi.ingest.readers import RawTable
from shopkpi.ingest.rows import PROVENANCE, ImportContext, Parsed, Problems, column_of, finish, non_data_rows, provenance_columns
from shopkpi.ingest.values import MONEY_TYPE, clean_text

SPEC = {"commission_model": "text", "commission_rate": "percent", "fixed_fee_per_video": "money",
        "videos_promised": "count", "lives_promised": "count", "contract_start": "date", "contract_end": "date"}
NOT_NEGATIVE = ["commission_rate", "fixed_fee_per_video", "videos_promised", "lives_promised"]


def creator_contracts_schema() -> pa.Schema:
    return pa.schema([
        ("creator", pa.string()), ("market", pa.string()), ("commission_model", pa.string()),
        ("commission_rate", pa.float64()), ("fixed_fee_per_video", MONEY_TYPE), ("currency", pa.string()),
        ("videos_promised", pa.int64()), ("lives_promised", pa.int64()),
        ("contract_start", pa.date32()), ("contract_end", pa.date32()),
    ] + PROVENANCE)


def parse_creator_contracts(raw: RawTable, match: HeaderMatch, ctx: ImportContext) -> Parsed:
    raw = without_midnight(raw, match, ["contract_start", "contract_end"])

    def column(name: str) -> pa.Array:
        return column_of(raw, match, name)

    skip, skip_rule = non_data_rows(raw, match.mapping["creator"])
    problems = Problems(raw, match, skip)
    out: dict[str, pa.Array] = {"creator": creator_handles(column("creator"))}
    problems.note(pc.is_null(out["creator"]), "creator", "required value is empty", column("creator"))
    out["market"], unknown = creator_markets(column("country"), ctx)
    problems.note(unknown, "country", "not a market code or country name known to markets.yaml", column("country"))
    problems.note(pc.is_null(out["market"]), "country", "no market: add a Market column or ingest with --market",
                  column("country"))
    typed, _ = typed_columns(raw, match, ctx, problems, SPEC, out["market"],
                             required=("fixed_fee_per_video", "videos_promised"))
    out |= typed
    for name in NOT_NEGATIVE:
        problems.note(pc.less(out[name].cast(pa.float64()), 0.0), name, "negative value", column(name))
    problems.note(pc.less(out["contract_end"], out["contract_start"]), "contract_end", "ends before the contract start",
                  column("contract_end"))
    # The fee is in the creator's market currency unless the sheet says otherwise.
    stated = pc.utf8_upper(clean_text(column("currency")))
    problems.note(pc.invert(pc.fill_null(pc.match_substring_regex(stated, r"^[A-Z]{3}$"), True)), "currency",
                  "not a 3-letter currency code", column("currency"))
    codes = [m.code for m in ctx.params.markets]
    of_market = pc.take(pa.array([m.currency for m in ctx.params.markets]), pc.index_in(out["market"], pa.array(codes)))
    out["currency"] = pc.coalesce(stated, of_market)
    problems.note(pc.is_null(out["currency"]), "currency", "no currency and the market is not one of this client's",
                  column("currency"))
    as_of, _basis = sheet_as_of(raw, workbook_saved_at(raw))
    out |= provenance_columns(raw, ctx, as_of)
    return finish(raw, ctx, out, CREATOR_CONTRACTS.schema, skip, skip_rule, problems)


CREATOR_CONTRACTS = register(Importer(kind="creator_contracts", table="creator_contracts", key=("creator", "market"),
                                      schema=creator_contracts_schema(), parse=parse_creator_contracts))
