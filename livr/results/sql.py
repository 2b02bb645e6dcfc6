"""`livr sql`: run one query over the results database, read-only, and print the result."""

from __future__ import annotations

import argparse
import re
import sys

import duckdb
import pandas as pd

from livr.errors import InputError
from livr.results.db import SCHEMA_SQL, connect_read_only


def schema_objects(kind: str) -> list[str]:
    """The database's tables or views (`kind`: TABLE or VIEW), in the order its schema creates them."""
    return re.findall(rf"^CREATE {kind} (\w+)", SCHEMA_SQL, re.MULTILINE)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "query",
        help='SQL, e.g. "SELECT * FROM metrics ORDER BY accuracy DESC" '
        f"(tables: {', '.join(schema_objects('TABLE'))}; views: {', '.join(schema_objects('VIEW'))})",
    )
    parser.add_argument("--db", default="results/livr.duckdb", help="results database (default: %(default)s)")
    parser.add_argument("--csv", action="store_true", help="print CSV instead of an aligned table")


def main(args: argparse.Namespace) -> int:
    frame = run_query(args.db, args.query)
    if args.csv:
        frame.to_csv(sys.stdout, index=False)
    elif frame.empty:
        print("  ".join(frame.columns) if len(frame.columns) else "(no result)")
        print("(0 rows)")
    else:
        with pd.option_context(
            "display.max_rows", None, "display.max_columns", None, "display.width", None, "display.max_colwidth", 80
        ):
            print(frame.to_string(index=False))
        print(f"({len(frame)} row{'s' if len(frame) != 1 else ''})")
    return 0


def run_query(db: str, query: str) -> pd.DataFrame:
    """The query's result; the database is opened read-only, so writes fail."""
    if not query.strip():
        raise InputError('empty query; give one SQL statement, e.g. livr sql "SELECT * FROM metrics LIMIT 5"')
    con = connect_read_only(db)
    try:
        return con.execute(query).fetchdf()
    except duckdb.Error as e:
        # One line: DuckDB's message and the offending SQL line, without the caret art.
        parts = [line.strip() for line in str(e).splitlines() if line.strip() and set(line.strip()) != {"^"}]
        raise InputError(f"query failed: {' | '.join(parts)}") from None
    finally:
        con.close()
