-- Checkpoint selection check, for one experiment: every trained cell at both candidate weights
-- (a run keeps its best-validation or its last-step checkpoint, params `select`, and the other is
-- evaluated too), which one its run kept, and the difference to Direct SFT at the same weights
-- (paired bootstrap, table paired_deltas). A conclusion that holds at `best_val` but not at `last`
-- (or the reverse) hangs on checkpoint selection. Accuracy in percent, unrounded. One row per
-- training seed (livr/results/tables.py drops the seed column when no cell has several).
WITH m AS (
    SELECT * FROM metrics WHERE experiment = $experiment AND weights <> 'base'
),
cells AS (
    SELECT backbone, train_set, method, seed, task,
           any_value(weights) FILTER (WHERE selected) AS kept,
           any_value(n) AS n,
           any_value(accuracy) FILTER (WHERE weights = 'best_val') AS best_val,
           any_value(accuracy) FILTER (WHERE weights = 'last') AS last
    FROM m
    GROUP BY backbone, train_set, method, seed, task
),
vs_sft AS (
    SELECT * FROM paired_deltas WHERE experiment = $experiment AND baseline = 'sft'
)
SELECT c.backbone, c.train_set, c.method, c.seed, c.task, c.n, c.kept, c.best_val, c.last,
       b.delta AS best_val_minus_sft, b.ci_low AS best_val_minus_sft_ci_low, b.ci_high AS best_val_minus_sft_ci_high,
       l.delta AS last_minus_sft, l.ci_low AS last_minus_sft_ci_low, l.ci_high AS last_minus_sft_ci_high
FROM cells c
LEFT JOIN vs_sft b ON b.backbone = c.backbone AND b.train_set = c.train_set AND b.task = c.task
                  AND b.method = c.method AND b.weights = 'best_val' AND b.seed IS NOT DISTINCT FROM c.seed
LEFT JOIN vs_sft l ON l.backbone = c.backbone AND l.train_set = c.train_set AND l.task = c.task
                  AND l.method = c.method AND l.weights = 'last' AND l.seed IS NOT DISTINCT FROM c.seed
ORDER BY c.backbone, c.train_set, c.method, list_position($tasks, c.task), c.seed
