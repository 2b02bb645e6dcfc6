-- Long-format accuracies behind the paper's tables, for one experiment.
--   $mixture = false: Table 1, cells trained on the task they are evaluated on (train_set = task);
--                     train_set is '' in the output.
--   $mixture = true:  Table 2, cells trained on a mixture (train_set <> task), one group per mixture.
-- Output (backbone, train_set, method, task, accuracy, n, ci_low, ci_high), method in zero_shot |
-- sft | livr | delta_vs_sft (LIVR - SFT) and task = a task or 'Mean'. Accuracy (percent,
-- unrounded) is the metrics view's, i.e. recomputed from the predictions, with its 95% Wilson
-- interval; a delta's interval is the paired bootstrap of table paired_deltas. Means carry no n
-- and no interval. Only the nine tasks (table `tasks`): benchmark cells of the comparison
-- experiments go to their own tables (comparison_table.sql). $weights: the weights shown
-- (schema.sql shows_weights; 'selected' = what each run kept, as the paper reports); $seed: the
-- training seed shown (schema.sql shows_seed).
WITH m AS (
    SELECT * FROM metrics
    WHERE experiment = $experiment AND task IN (SELECT task FROM tasks) AND shows_weights(weights, selected, $weights)
      AND shows_seed(seed, $seed)
),
slots AS (  -- every (backbone, group, task) the table has a column value for
    SELECT DISTINCT backbone, CASE WHEN $mixture THEN train_set ELSE '' END AS train_set, task
    FROM m
    WHERE (train_set <> task) = $mixture
),
zero_shot AS (  -- the untrained model: prefer the cell under the same train set, then under its own task
    SELECT s.backbone, s.train_set, 'zero_shot' AS method, s.task, z.accuracy, z.n, z.ci_low, z.ci_high
    FROM slots s
    JOIN m z ON z.method = 'zero_shot' AND z.backbone = s.backbone AND z.task = s.task
    QUALIFY row_number() OVER (
        PARTITION BY s.backbone, s.train_set, s.task
        ORDER BY z.train_set = s.train_set DESC, z.train_set = z.task DESC, z.train_set
    ) = 1
),
trained AS (
    SELECT backbone, CASE WHEN $mixture THEN train_set ELSE '' END AS train_set, method, task,
           accuracy, n, ci_low, ci_high
    FROM m
    WHERE method IN ('sft', 'livr') AND (train_set <> task) = $mixture
),
acc AS (
    SELECT * FROM zero_shot UNION ALL BY NAME SELECT * FROM trained
),
delta AS (
    SELECT d.backbone, CASE WHEN $mixture THEN d.train_set ELSE '' END AS train_set, 'delta_vs_sft' AS method,
           d.task, d.delta AS accuracy, d.n, d.ci_low, d.ci_high
    FROM paired_deltas d
    WHERE d.experiment = $experiment AND d.method = 'livr' AND d.baseline = 'sft' AND d.weights = $weights
      AND shows_seed(d.seed, $seed)
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
SELECT backbone, train_set, method, task, accuracy, n, ci_low, ci_high FROM per_task
UNION ALL BY NAME
SELECT backbone, train_set, method, task, accuracy FROM means
