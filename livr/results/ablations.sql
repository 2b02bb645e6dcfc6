-- The paper's ablations (livr/results/paper_ablations.csv, temp table `paper_ablations`) beside
-- ours, long format, for one experiment. Our accuracy is the metrics view's (recomputed from the
-- predictions; the mean over a cell's training seeds, view seed_metrics) for cells trained and
-- evaluated on the same task; `backbone_map` maps our
-- backbone to the paper's (unmapped ones map to themselves). Deltas are against LIVR with the
-- paper's defaults (method `livr`) on the same backbone and task, ours and the paper's.
-- Rows: every paper ablation row whose method we ran, for each of our backbones mapped to its
-- backbone, in the CSV's order (`row_order`) within each ablation.
-- $weights: the weights compared (schema.sql shows_weights; 'selected' = what each run kept).
WITH ours AS (
    SELECT m.backbone, coalesce(b.paper_backbone, m.backbone) AS paper_backbone, m.method, m.task, m.accuracy
    FROM seed_metrics m
    LEFT JOIN backbone_map b ON b.backbone = m.backbone
    WHERE m.experiment = $experiment AND m.train_set = m.task AND m.weights = $weights
)
SELECT
    p.ablation, p.variant, p.method, o.backbone, o.paper_backbone, p.task,
    round(o.accuracy, 2) AS ours,
    p.accuracy AS paper,
    round(o.accuracy - ol.accuracy, 2) AS ours_delta_vs_livr,
    round(p.accuracy - pl.accuracy, 2) AS paper_delta_vs_livr
FROM paper_ablations p
JOIN ours o ON o.paper_backbone = p.backbone AND o.method = p.method AND o.task = p.task
LEFT JOIN ours ol ON ol.backbone = o.backbone AND ol.task = o.task AND ol.method = 'livr'
LEFT JOIN (SELECT DISTINCT backbone, task, accuracy FROM paper_ablations WHERE method = 'livr') pl
    ON pl.backbone = p.backbone AND pl.task = p.task
ORDER BY o.backbone, list_position(['mask', 'num_latents', 'stage_split', 'controls', 'eval_time', 'table5', 'table6'], p.ablation),
         p.row_order, list_position($tasks, p.task)
