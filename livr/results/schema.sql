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
-- ci_low/ci_high: the 95% Wilson score interval of the accuracy (percent; livr/results/stats.py).
CREATE VIEW metrics AS
WITH counts AS (
    SELECT
        experiment, backbone, train_set, method, task,
        count(*) AS n,
        count(*) FILTER (WHERE correct) AS n_correct,
        count(*) FILTER (WHERE parsed IS NULL) AS n_unparsed
    FROM predictions
    GROUP BY experiment, backbone, train_set, method, task
),
w AS (
    SELECT *, n_correct / n AS p, 1.959963984540054 AS z FROM counts
)
SELECT
    experiment, backbone, train_set, method, task, n, n_correct, n_unparsed,
    100.0 * p AS accuracy,
    100.0 * ((p + z * z / (2 * n)) - z * sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / (1 + z * z / n) AS ci_low,
    100.0 * ((p + z * z / (2 * n)) + z * sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / (1 + z * z / n) AS ci_high
FROM w;

-- Method A minus baseline B (sft or livr) on the same test examples of one cell, with a paired
-- bootstrap 95% interval (livr/results/stats.py: percentile, examples resampled with replacement).
CREATE TABLE paired_deltas (
    experiment VARCHAR NOT NULL,
    backbone VARCHAR NOT NULL,
    train_set VARCHAR NOT NULL,
    task VARCHAR NOT NULL,
    method VARCHAR NOT NULL,           -- A
    baseline VARCHAR NOT NULL,         -- B
    n INTEGER NOT NULL,                -- examples both were evaluated on
    delta DOUBLE NOT NULL,             -- accuracy points, A - B
    ci_low DOUBLE NOT NULL,
    ci_high DOUBLE NOT NULL,
    a_only INTEGER NOT NULL,           -- examples A gets right and B wrong
    b_only INTEGER NOT NULL,
    samples INTEGER NOT NULL,          -- bootstrap resamples
    seed INTEGER NOT NULL,
    PRIMARY KEY (experiment, backbone, train_set, task, method, baseline)
);

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

-- The built datasets the experiment's cells read: examples per split, from each task directory's
-- manifest.json (livr/data/schema.py write_task_dir).
CREATE TABLE datasets (
    experiment VARCHAR NOT NULL,
    task VARCHAR NOT NULL,
    split VARCHAR NOT NULL,
    n INTEGER NOT NULL,
    path VARCHAR NOT NULL,             -- the task directory
    PRIMARY KEY (experiment, task, split)
);

-- The paper's dataset sizes (Appendix A; livr/results/paper_datasets.csv).
CREATE TABLE paper_datasets (
    task VARCHAR NOT NULL,
    split VARCHAR NOT NULL,
    n INTEGER NOT NULL,
    note VARCHAR,
    PRIMARY KEY (task, split)
);

-- Accuracy of uniform guessing per task (livr/data/prompts.py CHANCE): 1/k for k choices.
CREATE TABLE tasks (
    task VARCHAR PRIMARY KEY,
    chance DOUBLE NOT NULL             -- percent
);

-- The paper's numbers (livr/results/paper_results.csv).
CREATE TABLE paper (
    table_name VARCHAR NOT NULL,       -- table1 | table2
    backbone VARCHAR NOT NULL,
    method VARCHAR NOT NULL,
    task VARCHAR NOT NULL,
    accuracy DOUBLE NOT NULL
);
