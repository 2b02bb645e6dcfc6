-- Results database, built from scratch by `livr collect` (livr/results/db.py).

-- One row per evaluated cell, from the cell's sidecar .json (counts checked against its .jsonl).
CREATE TABLE runs (
    experiment VARCHAR NOT NULL,
    backbone VARCHAR NOT NULL,
    train_set VARCHAR NOT NULL,
    method VARCHAR NOT NULL,
    task VARCHAR NOT NULL,
    n INTEGER NOT NULL,
    n_correct INTEGER NOT NULL,
    n_unparsed INTEGER NOT NULL,
    accuracy DOUBLE NOT NULL,          -- percent, as the sidecar reports it
    checkpoint VARCHAR,                -- NULL for zero-shot cells
    seconds DOUBLE,
    settings JSON,                     -- the sidecar's eval settings
    path VARCHAR NOT NULL,             -- the cell's .jsonl
    PRIMARY KEY (experiment, backbone, train_set, method, task)
);

-- One row per test example per cell.
CREATE TABLE predictions (
    experiment VARCHAR NOT NULL,
    backbone VARCHAR NOT NULL,
    train_set VARCHAR NOT NULL,
    method VARCHAR NOT NULL,
    task VARCHAR NOT NULL,
    id VARCHAR NOT NULL,
    raw_output VARCHAR NOT NULL,
    parsed VARCHAR,                    -- NULL when unparsable
    parse_method VARCHAR NOT NULL,
    gold VARCHAR NOT NULL,
    correct BOOLEAN NOT NULL,
    PRIMARY KEY (experiment, backbone, train_set, method, task, id)
);

-- Accuracy recomputed from the predictions themselves: the tables read this, not the sidecars.
CREATE VIEW metrics AS
SELECT
    experiment, backbone, train_set, method, task,
    count(*) AS n,
    count(*) FILTER (WHERE correct) AS n_correct,
    count(*) FILTER (WHERE parsed IS NULL) AS n_unparsed,
    100.0 * count(*) FILTER (WHERE correct) / count(*) AS accuracy
FROM predictions
GROUP BY experiment, backbone, train_set, method, task;

-- One row per measurement in a Snakemake benchmark TSV; the job is read from its path
-- (benchmarks/<experiment>/<step>/<backbone>/<train_set>/<method>[/<task>].tsv).
CREATE TABLE benchmarks (
    path VARCHAR NOT NULL,
    job VARCHAR NOT NULL,              -- path below benchmarks/, without .tsv
    experiment VARCHAR,
    step VARCHAR,
    backbone VARCHAR,
    train_set VARCHAR,
    method VARCHAR,
    task VARCHAR,
    repeat INTEGER NOT NULL,           -- row number in the TSV (Snakemake's `repeat`)
    s DOUBLE,
    hms VARCHAR,                       -- the h:m:s column
    max_rss DOUBLE,
    max_vms DOUBLE,
    max_uss DOUBLE,
    max_pss DOUBLE,
    io_in DOUBLE,
    io_out DOUBLE,
    mean_load DOUBLE,
    cpu_time DOUBLE,
    extra JSON                         -- any further columns (extended benchmarks)
);

-- One row per line of a training run's metrics.jsonl; the run is read from its path
-- (runs/<experiment>/<backbone>/<train_set>/<method>/...).
CREATE TABLE train_metrics (
    path VARCHAR NOT NULL,
    line INTEGER NOT NULL,
    experiment VARCHAR,
    backbone VARCHAR,
    train_set VARCHAR,
    method VARCHAR,
    step BIGINT,
    epoch DOUBLE,
    stage VARCHAR,
    loss DOUBLE,
    raw JSON NOT NULL                  -- the whole line: query other keys with raw->>'key'
);

-- The paper's numbers (livr/results/paper_results.csv).
CREATE TABLE paper (
    table_name VARCHAR NOT NULL,       -- table1 | table2
    backbone VARCHAR NOT NULL,
    method VARCHAR NOT NULL,
    task VARCHAR NOT NULL,
    accuracy DOUBLE NOT NULL
);
