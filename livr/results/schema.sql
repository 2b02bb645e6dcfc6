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
    subtask VARCHAR,                   -- benchmark cells: the record's subtask (the benchmark's name when it
                                       -- has none); NULL for the nine tasks
    pair INTEGER,                      -- MMVP's question pair (1..150); NULL elsewhere
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
    table_name VARCHAR NOT NULL,       -- table1 | table2 | table3 | table4 | mirage_vsp
    backbone VARCHAR NOT NULL,
    method VARCHAR NOT NULL,
    task VARCHAR NOT NULL,             -- a task, or the task of an evaluation-only benchmark (eval_sets.task)
    accuracy DOUBLE NOT NULL,
    reported_by VARCHAR NOT NULL       -- livr: the LIVR paper's own run; vigorl | lvr | mirage: a number the
                                       -- paper copied from that work (ViGoRL, LVR, Mirage)
);

-- The evaluation-only benchmarks of the comparison experiments (livr/data/benchmarks BENCHMARKS).
CREATE TABLE eval_sets (
    name VARCHAR PRIMARY KEY,          -- the benchmark: a cell's `task`
    task VARCHAR NOT NULL,             -- its records' task, as paper.task names it
    scorer VARCHAR NOT NULL,           -- livr/data/benchmarks/scoring.py SCORERS
    aggregate VARCHAR NOT NULL,        -- micro | size_weighted (pooled) | mean_of_subtasks
    paper_column VARCHAR NOT NULL      -- the paper's column header
);

-- The number each benchmark reports, per cell, by its aggregate (same rules as
-- livr/data/benchmarks summarize()): micro and size_weighted pool every example (BLINK-5's
-- "size-weighted mean" is the pooled accuracy), mean_of_subtasks averages the subtask accuracies
-- (BLINK-3). pair_accuracy, MMVP's own metric: a question pair counts when both are right; NULL
-- where the cell has no pairs, or any pair lacks one of its questions.
CREATE VIEW eval_set_metrics AS
WITH per_subtask AS (
    SELECT p.experiment, p.backbone, p.train_set, p.method, p.task, p.subtask,
           count(*) AS n,
           count(*) FILTER (WHERE p.correct) AS n_correct,
           count(*) FILTER (WHERE p.parsed IS NULL) AS n_unparsed
    FROM predictions p
    JOIN eval_sets e ON e.name = p.task
    GROUP BY ALL
),
pair_rows AS (
    SELECT experiment, backbone, train_set, method, task, pair, count(*) AS n, bool_and(correct) AS both_right
    FROM predictions
    WHERE pair IS NOT NULL
    GROUP BY ALL
),
pairs AS (
    SELECT experiment, backbone, train_set, method, task,
           CASE WHEN bool_and(n = 2) THEN 100.0 * avg(both_right::INTEGER) END AS pair_accuracy
    FROM pair_rows
    GROUP BY ALL
)
SELECT
    s.experiment, s.backbone, s.train_set, s.method, s.task AS eval_set, e.task AS paper_task, e.aggregate,
    sum(s.n)::INTEGER AS n, sum(s.n_correct)::INTEGER AS n_correct, sum(s.n_unparsed)::INTEGER AS n_unparsed,
    count(*) AS n_subtasks,
    CASE WHEN e.aggregate = 'mean_of_subtasks' THEN 100.0 * avg(s.n_correct / s.n)
         ELSE 100.0 * sum(s.n_correct) / sum(s.n) END AS accuracy,
    any_value(pr.pair_accuracy) AS pair_accuracy
FROM per_subtask s
JOIN eval_sets e ON e.name = s.task
LEFT JOIN pairs pr
    ON pr.experiment = s.experiment AND pr.backbone = s.backbone AND pr.train_set = s.train_set
   AND pr.method = s.method AND pr.task = s.task
GROUP BY s.experiment, s.backbone, s.train_set, s.method, s.task, e.task, e.aggregate;

-- Per-subtask accuracy of every benchmark cell (percent).
CREATE VIEW subtask_metrics AS
SELECT experiment, backbone, train_set, method, task AS eval_set, subtask, count(*) AS n,
       count(*) FILTER (WHERE correct) AS n_correct,
       100.0 * count(*) FILTER (WHERE correct) / count(*) AS accuracy
FROM predictions
WHERE subtask IS NOT NULL
GROUP BY ALL;
