"""Reads a run's Parquet tables as a user would, with pyarrow, DuckDB, polars and pandas, and
checks them against the same run's CSV tables and its summary.json.

    python read.py CSV_DIR PARQUET_DIR

Prints one line per table and `ok`; exits non-zero with the first difference.
"""

import json
import math
import sys
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

TABLES = ["timeline", "requests", "instances", "occupancy", "cancellations"]
# The vocabularies the issue names: each must be dictionary-encoded in the file.
DICTIONARY = {
    "timeline": ["entity", "from", "to", "cause"],
    "requests": ["action", "outcome", "error_code"],
    "instances": ["job_id", "task", "env", "final_state", "path"],
    "cancellations": ["service", "final_state"],
}


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def read_csv(path, schema):
    # Strings stay strings (an id like `00012` is not a number) and empty cells are nulls, as
    # the Parquet files hold them.
    types = {f.name: f.type for f in schema}
    options = pacsv.ConvertOptions(column_types=types, strings_can_be_null=True, quoted_strings_can_be_null=False)
    return pacsv.read_csv(path, convert_options=options)


def main(csv_dir, parquet_dir):
    csv_dir, parquet_dir = Path(csv_dir), Path(parquet_dir)
    summary = json.loads((parquet_dir / "summary.json").read_text())
    check(summary == json.loads((csv_dir / "summary.json").read_text()), "summary.json differs between the formats")
    tables = {}
    for name in TABLES:
        path = parquet_dir / f"{name}.parquet"
        if not (csv_dir / f"{name}.csv").exists():
            check(not path.exists(), f"{path} exists without its CSV")
            continue
        table = pq.read_table(path)
        tables[name] = table
        csv = read_csv(csv_dir / f"{name}.csv", table.schema)
        check(table.schema.names == csv.schema.names, f"{name}: columns {table.schema.names} != {csv.schema.names}")
        check(table.num_rows == csv.num_rows, f"{name}: {table.num_rows} rows, the CSV has {csv.num_rows}")
        for column in table.schema.names:
            a, b = table.column(column), csv.column(column)
            if not a.equals(b):
                a, b = a.to_pylist(), b.to_pylist()
                i = next(i for i, (x, y) in enumerate(zip(a, b)) if x != y)
                fail(f"{name}.{column}: row {i} is {a[i]!r} in Parquet, {b[i]!r} in CSV")
        # Real types: floats for seconds, integers for counts.
        for field in table.schema:
            if field.name.endswith("_s"):
                check(field.type == pa.float64(), f"{name}.{field.name} is {field.type}, not double")
            if field.name in ("index", "attempt", "cvms_alive", "quota_in_use"):
                check(field.type == pa.int64(), f"{name}.{field.name} is {field.type}, not int64")
        metadata = pq.ParquetFile(path).metadata
        for column in DICTIONARY.get(name, []):
            for g in range(metadata.num_row_groups):
                chunk = metadata.row_group(g).column(table.schema.names.index(column))
                check(
                    "RLE_DICTIONARY" in chunk.encodings and chunk.compression == "ZSTD",
                    f"{name}.{column}: encodings {chunk.encodings}, compression {chunk.compression}",
                )
        print(f"{name}: {table.num_rows} rows in {metadata.num_row_groups} row groups, equal to the CSV (pyarrow)")

    # DuckDB: the aggregates of summary.json, by SQL on the files.
    db = duckdb.connect()
    one = lambda sql: db.execute(sql).fetchall()[0]
    rows = lambda sql: db.execute(sql).fetchall()
    f = lambda name: str(parquet_dir / f"{name}.parquet")
    instances = summary["instances"]
    check(one(f"select count(*) from '{f('instances')}'")[0] == instances["total"], "instance count")
    by_path = dict(rows(f"select path, count(*) from '{f('instances')}' group by path"))
    check(by_path == {k: v for k, v in instances["by_path"].items() if v}, f"by path: {by_path}")
    by_state = dict(rows(f"select final_state, count(*) from '{f('instances')}' group by all"))
    check(by_state == {k: v for k, v in instances["by_final_state"].items() if v}, f"by final state: {by_state}")
    latency = summary["termination_latency_s"]
    count, mean, top = one(
        f"select count(termination_latency_s), avg(termination_latency_s), max(termination_latency_s) from '{f('instances')}'"
    )
    check(count == latency["count"], f"termination latency count {count}")
    if count:
        check(math.isclose(mean, latency["mean"], abs_tol=1e-6), f"mean latency {mean} != {latency['mean']}")
        check(top == latency["max"], f"max latency {top} != {latency['max']}")
    requests = summary["requests"]
    total, ok = one(f"select count(*), count(*) filter (outcome = 'ok') from '{f('requests')}'")
    check((total, ok) == (requests["total"], requests["ok"]), f"requests {total}, ok {ok}")
    by_error = dict(rows(f"select error_code, count(*) from '{f('requests')}' where error_code is not null group by 1"))
    check(by_error == {k: v for k, v in requests["by_error"].items() if v}, f"by error: {by_error}")
    if "timeline" in tables:
        end = one(f"select max(time_s) from '{f('timeline')}'")[0]
        check(end == summary["sim_end_s"], f"last timeline row at {end}, sim_end_s {summary['sim_end_s']}")
    peak = one(f"select max(cvms_alive) from '{f('occupancy')}'")[0] or 0
    check(peak == summary["peak_cvms"], f"peak CVMs {peak} != {summary['peak_cvms']}")
    print("duckdb: counts, latencies, errors, end and peak agree with summary.json")

    # polars and pandas read every table, with the same rows.
    for name, table in tables.items():
        frame = pl.read_parquet(f(name))
        check(frame.height == table.num_rows and frame.columns == table.schema.names, f"polars: {name}")
        check(frame.to_arrow().equals(table, check_metadata=False) or frame.equals(pl.from_arrow(table)), f"polars values: {name}")
        pandas = pd.read_parquet(f(name))
        check(len(pandas) == table.num_rows, f"pandas: {name}")
    print("polars, pandas: every table reads, same rows")
    print("ok")


if __name__ == "__main__":
    main(*sys.argv[1:])
