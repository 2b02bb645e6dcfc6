-- Our accuracies beside the paper's, long format, from the temp table `table_cells` (the output
-- of table_cells.sql) and `backbone_map` (our backbone -> the paper's; unmapped ones map to
-- themselves). $table is 'table1' or 'table2'; $tasks is the canonical task order.
-- n (test examples; paper_n: the paper's test split) and the 95% interval (ours_ci_low/high:
-- Wilson) go with every accuracy of ours; the LIVR - SFT difference carries its paired bootstrap
-- interval (ours_delta_ci_low/high), on the livr rows.
WITH ours AS (
    SELECT c.backbone, c.train_set, coalesce(b.paper_backbone, c.backbone) AS paper_backbone,
           c.method, c.task, c.accuracy, c.n, c.ci_low, c.ci_high
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
    round(p.accuracy - ps.accuracy, 2) AS paper_delta_vs_sft
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
