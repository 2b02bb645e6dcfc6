-- Our accuracies beside the paper's, long format, from the temp table `table_cells` (the output
-- of table_cells.sql) and `backbone_map` (our backbone -> the paper's; unmapped ones map to
-- themselves). $table is 'table1' or 'table2'; $tasks is the canonical task order.
-- n (test examples; paper_n: the paper's test split) and the 95% interval (ours_ci_low/high:
-- Wilson) go with every accuracy of ours; the LIVR - SFT difference carries its paired bootstrap
-- interval (ours_delta_ci_low/high), on the livr rows.
-- Over training seeds (livr/results/tables.py keeps these columns only when a cell has several):
-- n_seeds, each seed's accuracy (ours_per_seed), their sd, min and max; where the paper's number falls
-- among our seeds (paper_vs_seeds: below | within | above their range) and (paper - mean) / sd
-- (paper_z, from 2 seeds on); on the livr rows each seed's LIVR - SFT with its paired bootstrap
-- interval (ours_delta_per_seed) and whether the pooled interval excludes 0 (ours_delta_supported).
WITH ours AS (
    SELECT c.backbone, c.train_set, coalesce(b.paper_backbone, c.backbone) AS paper_backbone,
           c.method, c.task, c.accuracy, c.n, c.ci_low, c.ci_high, c.n_seeds, c.sd, c.min_accuracy,
           c.max_accuracy, c.per_seed, c.supported
    FROM table_cells c
    LEFT JOIN backbone_map b ON b.backbone = c.backbone
    WHERE c.method IN ('zero_shot', 'sft', 'livr', 'delta_vs_sft') AND c.task <> 'Mean'
),
paper_rows AS (
    SELECT * FROM paper WHERE table_name = $table
)
SELECT
    o.backbone, o.train_set, o.paper_backbone, o.method, o.task,
    o.n,
    pd.n AS paper_n,
    round(o.accuracy, 2) AS ours,
    round(o.ci_low, 2) AS ours_ci_low,
    round(o.ci_high, 2) AS ours_ci_high,
    p.accuracy AS paper,
    round(o.accuracy - os.accuracy, 2) AS ours_delta_vs_sft,
    round(od.ci_low, 2) AS ours_delta_ci_low,
    round(od.ci_high, 2) AS ours_delta_ci_high,
    round(p.accuracy - ps.accuracy, 2) AS paper_delta_vs_sft,
    o.n_seeds,
    o.per_seed AS ours_per_seed,
    round(o.sd, 2) AS ours_sd,
    round(o.min_accuracy, 2) AS ours_min,
    round(o.max_accuracy, 2) AS ours_max,
    CASE WHEN p.accuracy < o.min_accuracy THEN 'below' WHEN p.accuracy > o.max_accuracy THEN 'above'
         WHEN p.accuracy IS NOT NULL THEN 'within' END AS paper_vs_seeds,
    CASE WHEN o.n_seeds >= 2 AND o.sd > 0 THEN round((p.accuracy - o.accuracy) / o.sd, 2) END AS paper_z,
    od.per_seed AS ours_delta_per_seed,
    od.supported AS ours_delta_supported
FROM ours o
LEFT JOIN ours os
    ON os.method = 'sft' AND os.backbone = o.backbone AND os.train_set = o.train_set AND os.task = o.task
LEFT JOIN ours od
    ON o.method = 'livr' AND od.method = 'delta_vs_sft' AND od.backbone = o.backbone
   AND od.train_set = o.train_set AND od.task = o.task
LEFT JOIN paper_datasets pd
    ON pd.task = o.task AND pd.split = 'test'
LEFT JOIN paper_rows p
    ON p.backbone = o.paper_backbone AND p.method = o.method AND p.task = o.task
LEFT JOIN paper_rows ps
    ON ps.backbone = o.paper_backbone AND ps.method = 'sft' AND ps.task = o.task
WHERE o.method <> 'delta_vs_sft'
ORDER BY o.backbone, o.train_set,
         list_position(['zero_shot', 'sft', 'livr'], o.method), list_position($tasks, o.task)
