-- One table of the comparison experiments ($table: table3 | table4 | mirage_vsp) in long format:
-- the paper's rows (every row of that table in `paper`, with reported_by: the LIVR paper's own run
-- or a number it quotes from ViGoRL / LVR / Mirage) and ours (view eval_set_metrics: each
-- benchmark's number by its own aggregate) for the experiment's cells whose benchmark reports a
-- column of that table. Our backbone maps to the paper's through the temp table `backbone_map`
-- (unmapped: its own name). `row_order` keeps the paper's row order (its CSV order). $seed: the
-- training seed shown (schema.sql shows_seed).
WITH columns AS (
    SELECT DISTINCT task FROM paper WHERE table_name = $table
),
theirs AS (
    SELECT 'paper' AS source, reported_by, backbone, backbone AS paper_backbone, NULL AS train_set, method,
           task AS "column", accuracy, rowid AS row_order
    FROM paper
    WHERE table_name = $table
),
ours AS (
    SELECT 'ours' AS source, NULL AS reported_by, m.backbone, coalesce(b.paper_backbone, m.backbone) AS paper_backbone,
           m.train_set, m.method, m.paper_task AS "column", m.accuracy, NULL AS row_order
    FROM eval_set_metrics m
    LEFT JOIN backbone_map b ON b.backbone = m.backbone
    WHERE m.experiment = $experiment AND m.selected AND shows_seed(m.seed, $seed)
      AND m.paper_task IN (SELECT task FROM columns)
)
SELECT * FROM theirs WHERE EXISTS (SELECT 1 FROM ours)
UNION ALL BY NAME
SELECT * FROM ours
