-- Results database, built from scratch by `livr collect` (livr/results/db.py).

-- Which weights a cell evaluated (columns `weights` and `selected` of runs, predictions, metrics):
--   weights  'base' (the untrained model: zero-shot), or a trained run's 'best_val' (best validation
--            accuracy of its last stage) or 'last' (its last step) weights;
--   selected the weights the run kept by its `select` rule (final/); false for the other candidate
--            (unselected/), evaluated so a conclusion can be checked against checkpoint selection.
-- Every trained cell thus has two rows: filter on `selected` (what the paper reports) or on `weights`.
--
-- `seed` (runs, predictions and every table keyed like them): the training seed of the evaluated
-- weights (params.yaml experiments.<name>.seeds; a test-time variant has its model's), NULL for the
-- untrained base model. A cell trained at several seeds has a row per seed: group or join on `seed`
-- so seeds are never mixed. Key columns cannot be NULL in a DuckDB primary key, so these tables have
-- a unique index on the key with coalesce(seed, -1) instead (seeds are >= 0, livr/config.py; -1 stands
-- for "no seed" only there), and a CHECK that the seed is NULL exactly for the base weights.

-- One row per evaluated cell and weights, from the cell's sidecar .json (counts checked against its .jsonl).
CREATE TABLE runs (
    experiment VARCHAR NOT NULL,
    backbone VARCHAR NOT NULL,
    train_set VARCHAR NOT NULL,
    method VARCHAR NOT NULL,
    seed INTEGER,                      -- training seed; NULL for the base model (zero-shot)
    task VARCHAR NOT NULL,
    weights VARCHAR NOT NULL,          -- base | best_val | last
    selected BOOLEAN NOT NULL,         -- the run's kept weights (base: true)
    n INTEGER NOT NULL,
    n_correct INTEGER NOT NULL,
    n_unparsed INTEGER NOT NULL,
    accuracy DOUBLE NOT NULL,          -- percent, as the sidecar reports it
    checkpoint VARCHAR,                -- NULL for zero-shot cells
    checkpoint_method VARCHAR,         -- the trained method whose weights are evaluated (NULL: the base
                                       -- model); differs from `method` for test-time variants
    seconds DOUBLE,
    settings JSON,                     -- the sidecar's eval settings
    path VARCHAR NOT NULL,             -- the cell's .jsonl
    CHECK ((weights = 'base') = (seed IS NULL))
);
CREATE UNIQUE INDEX runs_key ON runs (experiment, backbone, train_set, method, coalesce(seed, -1), task, weights);

-- One row per test example per cell and weights.
CREATE TABLE predictions (
    experiment VARCHAR NOT NULL,
    backbone VARCHAR NOT NULL,
    train_set VARCHAR NOT NULL,
    method VARCHAR NOT NULL,
    seed INTEGER,                      -- as in runs
    task VARCHAR NOT NULL,
    weights VARCHAR NOT NULL,
    selected BOOLEAN NOT NULL,
    id VARCHAR NOT NULL,
    raw_output VARCHAR NOT NULL,
    parsed VARCHAR,                    -- NULL when unparsable
    parse_method VARCHAR NOT NULL,
    gold VARCHAR NOT NULL,
    correct BOOLEAN NOT NULL,
    subtask VARCHAR,                   -- benchmark cells: the record's subtask (the benchmark's name when it
                                       -- has none); NULL for the nine tasks
    pair INTEGER,                      -- MMVP's question pair (1..150); NULL elsewhere
    CHECK ((weights = 'base') = (seed IS NULL))
);
CREATE UNIQUE INDEX predictions_key
    ON predictions (experiment, backbone, train_set, method, coalesce(seed, -1), task, weights, id);

-- Whether a row belongs to a table of `choice` weights: 'selected' (what each run kept, as the
-- paper reports), or 'best_val' / 'last' (every trained cell at those weights); the base model's
-- cells belong to every choice.
CREATE MACRO shows_weights(weights, selected, choice) AS
    weights = 'base' OR (choice = 'selected' AND selected) OR weights = choice;

-- Accuracy recomputed from the predictions themselves: the tables read this, not the sidecars.
-- ci_low/ci_high: the 95% Wilson score interval of the accuracy (percent; livr/results/stats.py).
CREATE VIEW metrics AS
WITH counts AS (
    SELECT
        experiment, backbone, train_set, method, seed, task, weights, selected,
        count(*) AS n,
        count(*) FILTER (WHERE correct) AS n_correct,
        count(*) FILTER (WHERE parsed IS NULL) AS n_unparsed
    FROM predictions
    GROUP BY experiment, backbone, train_set, method, seed, task, weights, selected
),
w AS (
    SELECT *, n_correct / n AS p, 1.959963984540054 AS z FROM counts
)
SELECT
    experiment, backbone, train_set, method, seed, task, weights, selected, n, n_correct, n_unparsed,
    100.0 * p AS accuracy,
    100.0 * ((p + z * z / (2 * n)) - z * sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / (1 + z * z / n) AS ci_low,
    100.0 * ((p + z * z / (2 * n)) + z * sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / (1 + z * z / n) AS ci_high
FROM w;

-- Method A minus baseline B (sft or livr; for a test-time variant also the trained method whose
-- checkpoint it evaluates, runs.checkpoint_method) on the same test examples of one cell, with a paired
-- bootstrap 95% interval (livr/results/stats.py: percentile, examples resampled with replacement),
-- for each choice of weights (see shows_weights): both at what their runs kept, both at best_val,
-- both at last; and per training seed: A and B trained at the same seed (a base-model side pairs
-- with each seed of the other).
CREATE TABLE paired_deltas (
    experiment VARCHAR NOT NULL,
    backbone VARCHAR NOT NULL,
    train_set VARCHAR NOT NULL,
    task VARCHAR NOT NULL,
    weights VARCHAR NOT NULL,          -- selected | best_val | last
    method VARCHAR NOT NULL,           -- A
    seed INTEGER,                      -- the training seed of both trained sides (NULL: neither trains)
    baseline VARCHAR NOT NULL,         -- B: sft, livr, or the variant's checkpoint method
    n INTEGER NOT NULL,                -- examples both were evaluated on
    delta DOUBLE NOT NULL,             -- accuracy points, A - B
    ci_low DOUBLE NOT NULL,
    ci_high DOUBLE NOT NULL,
    a_only INTEGER NOT NULL,           -- examples A gets right and B wrong
    b_only INTEGER NOT NULL,
    samples INTEGER NOT NULL,          -- bootstrap resamples
    bootstrap_seed INTEGER NOT NULL    -- the resampling's random seed (livr/results/stats.py)
);
CREATE UNIQUE INDEX paired_deltas_key
    ON paired_deltas (experiment, backbone, train_set, task, weights, method, coalesce(seed, -1), baseline);

-- paired_deltas pooled over training seeds: the mean of the per-seed deltas, with a two-level
-- bootstrap 95% interval (livr/results/stats.py two_level_bootstrap: seeds resampled with
-- replacement, then test examples, the same examples for every seed, each pair kept). With one seed
-- it is that seed's paired_deltas row. A delta is *supported* only where this interval excludes 0.
CREATE TABLE pooled_deltas (
    experiment VARCHAR NOT NULL,
    backbone VARCHAR NOT NULL,
    train_set VARCHAR NOT NULL,
    task VARCHAR NOT NULL,
    weights VARCHAR NOT NULL,          -- selected | best_val | last
    method VARCHAR NOT NULL,
    baseline VARCHAR NOT NULL,
    n_seeds INTEGER NOT NULL,
    seeds INTEGER[] NOT NULL,          -- the paired_deltas rows pooled (NULL: a pair naming no seed)
    n INTEGER NOT NULL,                -- examples every pair was evaluated on
    delta DOUBLE NOT NULL,             -- accuracy points, mean over seeds of A - B
    ci_low DOUBLE NOT NULL,
    ci_high DOUBLE NOT NULL,
    supported BOOLEAN NOT NULL,        -- the interval excludes 0
    samples INTEGER NOT NULL,
    bootstrap_seed INTEGER NOT NULL,
    PRIMARY KEY (experiment, backbone, train_set, task, weights, method, baseline)
);

-- One method's accuracy pooled over the training seeds of a cell of several seeds (mean over seeds),
-- with the same two-level bootstrap 95% interval; for each choice of weights, as paired_deltas.
CREATE TABLE pooled_accuracy (
    experiment VARCHAR NOT NULL,
    backbone VARCHAR NOT NULL,
    train_set VARCHAR NOT NULL,
    method VARCHAR NOT NULL,
    task VARCHAR NOT NULL,
    weights VARCHAR NOT NULL,          -- selected | best_val | last
    n_seeds INTEGER NOT NULL,
    n INTEGER NOT NULL,                -- examples every seed was evaluated on
    accuracy DOUBLE NOT NULL,
    ci_low DOUBLE NOT NULL,
    ci_high DOUBLE NOT NULL,
    samples INTEGER NOT NULL,
    bootstrap_seed INTEGER NOT NULL,
    PRIMARY KEY (experiment, backbone, train_set, method, task, weights)
);

-- Each cell over its training seeds, for each choice of weights (see shows_weights): the seeds and
-- each one's accuracy (in seed order), their mean, sample sd (NULL for one seed), min and max, and
-- the 95% interval of the mean: the two-level bootstrap (pooled_accuracy) for several seeds, the
-- Wilson interval (view metrics) for one, as before seeds. Percent.
CREATE VIEW seed_metrics AS
WITH chosen AS (
    SELECT m.*, c.choice
    FROM metrics m
    JOIN (VALUES ('selected'), ('best_val'), ('last')) c(choice) ON shows_weights(m.weights, m.selected, c.choice)
),
over_seeds AS (
    SELECT experiment, backbone, train_set, method, task, choice AS weights,
           count(*) AS n_seeds,
           list(seed ORDER BY seed) AS seeds,
           list(accuracy ORDER BY seed) AS accuracies,
           min(n) AS n,                    -- examples per seed (the fewest, should seeds differ)
           avg(accuracy) AS accuracy,
           stddev_samp(accuracy) AS sd,
           min(accuracy) AS min_accuracy,
           max(accuracy) AS max_accuracy,
           any_value(ci_low) AS wilson_low,    -- read for one seed only
           any_value(ci_high) AS wilson_high
    FROM chosen
    GROUP BY experiment, backbone, train_set, method, task, choice
)
SELECT s.* EXCLUDE (wilson_low, wilson_high),
       CASE WHEN s.n_seeds = 1 THEN s.wilson_low ELSE p.ci_low END AS ci_low,
       CASE WHEN s.n_seeds = 1 THEN s.wilson_high ELSE p.ci_high END AS ci_high
FROM over_seeds s
LEFT JOIN pooled_accuracy p USING (experiment, backbone, train_set, method, task, weights);

-- Job timings: one row per measurement in the TSV Snakemake's `benchmark:` directive writes per job
-- (wall time, memory, I/O); the job is read from its path
-- (timings/<experiment>/<step>/<backbone>/<train_set>/<method>[/seed<S>][/<task>].tsv).
CREATE TABLE job_timings (
    path VARCHAR NOT NULL,
    job VARCHAR NOT NULL,              -- path below timings/, without .tsv
    experiment VARCHAR,
    step VARCHAR,
    backbone VARCHAR,
    train_set VARCHAR,
    method VARCHAR,
    seed INTEGER,                      -- the job's training seed; NULL for base-model and shared jobs
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
    extra JSON                         -- any further columns (Snakemake's extended benchmark mode)
);

-- One row per line of a training run's metrics.jsonl; the run is read from its path
-- (runs/<experiment>/<backbone>/<train_set>/<method>/seed<S>/...).
CREATE TABLE train_metrics (
    path VARCHAR NOT NULL,
    line INTEGER NOT NULL,
    experiment VARCHAR,
    backbone VARCHAR,
    train_set VARCHAR,
    method VARCHAR,
    seed INTEGER,
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

-- `livr analyze` (paper Sec. 4.3.1): per analysed model (kept weights, standard mask) and test task,
-- the mean attention probability mass that queries put on the K latent keys and on the image keys,
-- over every decoder layer, head and query position and the examples (pooled). Queries: the answer
-- tokens (gold answer teacher-forced), and the position that predicts the first answer token.
CREATE TABLE attention_shares (
    experiment VARCHAR NOT NULL,
    backbone VARCHAR NOT NULL,
    train_set VARCHAR NOT NULL,
    method VARCHAR NOT NULL,
    seed INTEGER NOT NULL,             -- the analysed model's training seed
    task VARCHAR NOT NULL,
    weights VARCHAR NOT NULL,          -- the analysed checkpoint's (the kept one)
    n INTEGER NOT NULL,                -- test examples
    answer_to_latent DOUBLE NOT NULL,  -- paper (Localization, Qwen3-VL-4B): LIVR 0.076, latents-only 0.028
    answer_to_image DOUBLE NOT NULL,
    predictor_to_latent DOUBLE NOT NULL,
    predictor_to_image DOUBLE NOT NULL,
    PRIMARY KEY (experiment, backbone, train_set, method, seed, task)
);

-- `livr analyze` (paper Appendix C): 2D t-SNE of final-layer hidden states of latent, image and
-- prompt-text tokens of the first test examples of each task; one embedding per analysed model.
CREATE TABLE tsne_points (
    experiment VARCHAR NOT NULL,
    backbone VARCHAR NOT NULL,
    train_set VARCHAR NOT NULL,
    method VARCHAR NOT NULL,
    seed INTEGER NOT NULL,             -- the analysed model's training seed
    task VARCHAR NOT NULL,
    id VARCHAR NOT NULL,               -- test record
    kind VARCHAR NOT NULL,             -- latent | image | text
    position INTEGER NOT NULL,         -- token position in the record's sequence
    x DOUBLE NOT NULL,
    y DOUBLE NOT NULL
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
                                       -- paper quotes from that work (ViGoRL, LVR, Mirage)
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
    SELECT p.experiment, p.backbone, p.train_set, p.method, p.seed, p.task, p.weights, p.selected, p.subtask,
           count(*) AS n,
           count(*) FILTER (WHERE p.correct) AS n_correct,
           count(*) FILTER (WHERE p.parsed IS NULL) AS n_unparsed
    FROM predictions p
    JOIN eval_sets e ON e.name = p.task
    GROUP BY ALL
),
pair_rows AS (
    SELECT experiment, backbone, train_set, method, seed, task, weights, pair, count(*) AS n,
           bool_and(correct) AS both_right
    FROM predictions
    WHERE pair IS NOT NULL
    GROUP BY ALL
),
pairs AS (
    SELECT experiment, backbone, train_set, method, seed, task, weights,
           CASE WHEN bool_and(n = 2) THEN 100.0 * avg(both_right::INTEGER) END AS pair_accuracy
    FROM pair_rows
    GROUP BY ALL
)
SELECT
    s.experiment, s.backbone, s.train_set, s.method, s.seed, s.task AS eval_set, s.weights, s.selected,
    e.task AS paper_task, e.aggregate,
    sum(s.n)::INTEGER AS n, sum(s.n_correct)::INTEGER AS n_correct, sum(s.n_unparsed)::INTEGER AS n_unparsed,
    count(*) AS n_subtasks,
    CASE WHEN e.aggregate = 'mean_of_subtasks' THEN 100.0 * avg(s.n_correct / s.n)
         ELSE 100.0 * sum(s.n_correct) / sum(s.n) END AS accuracy,
    any_value(pr.pair_accuracy) AS pair_accuracy
FROM per_subtask s
JOIN eval_sets e ON e.name = s.task
LEFT JOIN pairs pr
    ON pr.experiment = s.experiment AND pr.backbone = s.backbone AND pr.train_set = s.train_set
   AND pr.method = s.method AND pr.seed IS NOT DISTINCT FROM s.seed AND pr.task = s.task AND pr.weights = s.weights
GROUP BY s.experiment, s.backbone, s.train_set, s.method, s.seed, s.task, s.weights, s.selected, e.task, e.aggregate;

-- Per-subtask accuracy of every benchmark cell (percent), at each of its weights.
CREATE VIEW subtask_metrics AS
SELECT experiment, backbone, train_set, method, seed, task AS eval_set, weights, selected, subtask, count(*) AS n,
       count(*) FILTER (WHERE correct) AS n_correct,
       100.0 * count(*) FILTER (WHERE correct) / count(*) AS accuracy
FROM predictions
WHERE subtask IS NOT NULL
GROUP BY ALL;
