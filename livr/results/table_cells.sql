-- Long-format accuracies behind the paper's tables, for one experiment.
--   $mixture = false: Table 1, cells trained on the task they are evaluated on (train_set = task);
--                     train_set is '' in the output.
--   $mixture = true:  Table 2, cells trained on a mixture (train_set <> task), one group per mixture.
-- Output (backbone, train_set, method, task, accuracy, n, ci_low, ci_high, and over training seeds
-- n_seeds, sd, min_accuracy, max_accuracy, per_seed, supported), method in zero_shot | sft | livr |
-- delta_vs_sft (LIVR - SFT) and task = a task or 'Mean'. Accuracy (percent, unrounded) is the
-- mean over the cell's training seeds of the metrics view's, i.e. recomputed from the predictions,
-- with its 95% interval (view seed_metrics: Wilson's for a cell of one seed, as before seeds, else
-- the two-level bootstrap of the mean). A delta is the pooled LIVR - SFT of
-- table pooled_deltas with its two-level bootstrap interval (with one seed: the paired bootstrap of
-- paired_deltas), per_seed its paired_deltas rows as text. n: test examples per seed. Means carry
-- no n and no interval. Only the nine tasks (table `tasks`): benchmark cells of the comparison
-- experiments go to their own tables (comparison_table.sql). $weights: the weights shown
-- (schema.sql shows_weights; 'selected' = what each run kept, as the paper reports).
WITH m AS (
    SELECT s.backbone, s.train_set, s.method, s.task, s.accuracy, s.n, s.n_seeds, s.sd, s.min_accuracy,
           s.max_accuracy, s.ci_low, s.ci_high,
           array_to_string(list_transform(list_zip(s.seeds, s.accuracies),
                                          lambda x: coalesce(x[1]::VARCHAR, 'base') || ': ' || printf('%.2f', x[2])),
                           '; ') AS per_seed
    FROM seed_metrics s
    WHERE s.experiment = $experiment AND s.weights = $weights AND s.task IN (SELECT task FROM tasks)
),
slots AS (  -- every (backbone, group, task) the table has a column value for
    SELECT DISTINCT backbone, CASE WHEN $mixture THEN train_set ELSE '' END AS train_set, task
    FROM m
    WHERE (train_set <> task) = $mixture
),
zero_shot AS (  -- the untrained model: prefer the cell under the same train set, then under its own task
    SELECT s.backbone, s.train_set, 'zero_shot' AS method, s.task, z.accuracy, z.n, z.ci_low, z.ci_high,
           z.n_seeds, z.sd, z.min_accuracy, z.max_accuracy, z.per_seed
    FROM slots s
    JOIN m z ON z.method = 'zero_shot' AND z.backbone = s.backbone AND z.task = s.task
    QUALIFY row_number() OVER (
        PARTITION BY s.backbone, s.train_set, s.task
        ORDER BY z.train_set = s.train_set DESC, z.train_set = z.task DESC, z.train_set
    ) = 1
),
trained AS (
    SELECT backbone, CASE WHEN $mixture THEN train_set ELSE '' END AS train_set, method, task,
           accuracy, n, ci_low, ci_high, n_seeds, sd, min_accuracy, max_accuracy, per_seed
    FROM m
    WHERE method IN ('sft', 'livr') AND (train_set <> task) = $mixture
),
acc AS (
    SELECT * FROM zero_shot UNION ALL BY NAME SELECT * FROM trained
),
per_seed_deltas AS (
    SELECT backbone, train_set, task,
           string_agg(coalesce(seed::VARCHAR, 'base') || ': ' || printf('%+.2f [%.2f, %.2f]', delta, ci_low, ci_high),
                      '; ' ORDER BY seed) AS per_seed,
           stddev_samp(delta) AS sd, min(delta) AS min_accuracy, max(delta) AS max_accuracy
    FROM paired_deltas
    WHERE experiment = $experiment AND method = 'livr' AND baseline = 'sft' AND weights = $weights
    GROUP BY backbone, train_set, task
),
delta AS (
    SELECT d.backbone, CASE WHEN $mixture THEN d.train_set ELSE '' END AS train_set, 'delta_vs_sft' AS method,
           d.task, d.delta AS accuracy, d.n, d.ci_low, d.ci_high, d.n_seeds, d.supported,
           p.sd, p.min_accuracy, p.max_accuracy, p.per_seed
    FROM pooled_deltas d
    JOIN per_seed_deltas p USING (backbone, train_set, task)
    WHERE d.experiment = $experiment AND d.method = 'livr' AND d.baseline = 'sft' AND d.weights = $weights
      AND (d.train_set <> d.task) = $mixture AND d.task IN (SELECT task FROM tasks)
),
per_task AS (
    SELECT * FROM acc UNION ALL BY NAME SELECT * FROM delta
),
means AS (  -- over the table's task columns; NULL when the row lacks any of them
    SELECT backbone, train_set, method, 'Mean' AS task,
           CASE WHEN count(*) = (SELECT count(DISTINCT task) FROM slots) THEN avg(accuracy) END AS accuracy
    FROM per_task
    GROUP BY backbone, train_set, method
)
SELECT backbone, train_set, method, task, accuracy, n, ci_low, ci_high, n_seeds, sd, min_accuracy, max_accuracy,
       per_seed, supported
FROM per_task
UNION ALL BY NAME
SELECT backbone, train_set, method, task, accuracy FROM means
