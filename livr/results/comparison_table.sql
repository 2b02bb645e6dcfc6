-- One table of the comparison experiments ($table: table3 | table4 | mirage_vsp) in long format:
-- the paper's rows (every row of that table in `paper`, with reported_by: the LIVR paper's own run
-- or a number it quotes from ViGoRL / LVR / Mirage) and ours (view eval_set_metrics: each
-- benchmark's number by its own aggregate) for the experiment's cells whose benchmark reports a
-- column of that table. Our backbone maps to the paper's through the temp table `backbone_map`
-- (unmapped: its own name). `row_order` keeps the paper's row order (its CSV order). Our value is
-- the mean over the cell's training seeds (one seed: its own value). Our rows also carry the
-- training set's size and the method's declared deviations from the recipe the paper quotes
-- (params.yaml `deviations`, kept in each cell's sidecar settings).
WITH columns AS (
    SELECT DISTINCT task FROM paper WHERE table_name = $table
),
theirs AS (
    SELECT 'paper' AS source, reported_by, backbone, backbone AS paper_backbone, NULL AS train_set, method,
           task AS "column", accuracy, rowid AS row_order, NULL::INTEGER AS n_train, NULL AS deviations
    FROM paper
    WHERE table_name = $table
),
ours AS (
    SELECT 'ours' AS source, NULL AS reported_by, m.backbone, coalesce(b.paper_backbone, m.backbone) AS paper_backbone,
           m.train_set, m.method, m.paper_task AS "column", avg(m.accuracy) AS accuracy, NULL AS row_order,
           any_value(d.n) AS n_train,
           nullif(any_value(array_to_string(CAST(json_extract(r.settings, '$.deviations') AS VARCHAR[]), '; ')), '')
               AS deviations
    FROM eval_set_metrics m
    LEFT JOIN backbone_map b ON b.backbone = m.backbone
    LEFT JOIN datasets d ON d.experiment = m.experiment AND d.task = m.train_set AND d.split = 'train'
    LEFT JOIN runs r
        ON r.experiment = m.experiment AND r.backbone = m.backbone AND r.train_set = m.train_set
       AND r.method = m.method AND r.seed IS NOT DISTINCT FROM m.seed AND r.task = m.eval_set AND r.weights = m.weights
    WHERE m.experiment = $experiment AND m.selected AND m.paper_task IN (SELECT task FROM columns)
    GROUP BY m.backbone, coalesce(b.paper_backbone, m.backbone), m.train_set, m.method, m.paper_task
)
SELECT * FROM theirs WHERE EXISTS (SELECT 1 FROM ours)
UNION ALL BY NAME
SELECT * FROM ours
