-- One of the paper's tables of controls (Table 5) or latent design (Table 6) in its layout, long
-- format: the rows of livr/results/paper_ablations.csv with ablation = $table (temp table
-- `paper_ablations`), in their order, for each of our backbones, with our accuracy of the row's
-- method (trained and evaluated on the same task; n and 95% Wilson interval) beside the paper's for
-- the paper backbone ours maps to (`backbone_map`; unmapped ones map to themselves). A row we did
-- not run has no accuracy of ours; a backbone the paper has no number for has no paper value.
-- $weights: the weights shown (schema.sql shows_weights).
WITH ours AS (
    SELECT m.backbone, m.method, m.task, m.accuracy, m.n, m.ci_low, m.ci_high
    FROM seed_metrics m  -- over a cell's training seeds: their mean and its interval
    WHERE m.experiment = $experiment AND m.train_set = m.task AND m.weights = $weights
),
backbones AS (
    SELECT DISTINCT o.backbone, coalesce(b.paper_backbone, o.backbone) AS paper_backbone
    FROM ours o LEFT JOIN backbone_map b ON b.backbone = o.backbone
),
layout AS (  -- a row's place: its first line in the CSV
    SELECT variant, method, task, min(min(row_order)) OVER (PARTITION BY variant, method) AS row_order
    FROM paper_ablations WHERE ablation = $table
    GROUP BY variant, method, task
)
SELECT b.backbone, b.paper_backbone, l.variant, l.method, l.task, l.row_order,
       o.n, o.accuracy AS ours, o.ci_low AS ours_ci_low, o.ci_high AS ours_ci_high, p.accuracy AS paper
FROM backbones b
CROSS JOIN layout l
LEFT JOIN ours o ON o.backbone = b.backbone AND o.method = l.method AND o.task = l.task
LEFT JOIN paper_ablations p
    ON p.ablation = $table AND p.variant = l.variant AND p.task = l.task AND p.backbone = b.paper_backbone
ORDER BY b.backbone, l.row_order, list_position($tasks, l.task)
