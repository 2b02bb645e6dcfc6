-- Training loss and validation accuracy of every training run of one experiment against epochs,
-- with each LIVR stage's epochs laid after the previous stage's (the Trainer counts epochs per
-- stage). Output (backbone, train_set, method, stage, epoch, loss, val_accuracy), one row per
-- logged step or validation, of the runs at training seed $seed.
WITH rows AS (
    SELECT backbone, train_set, method, stage, epoch, line, loss,
           TRY_CAST(raw->>'eval_accuracy' AS DOUBLE) AS val_accuracy
    FROM train_metrics
    WHERE experiment = $experiment AND seed = $seed AND epoch IS NOT NULL
),
stages AS (
    SELECT backbone, train_set, method, stage, max(epoch) AS stage_epochs, min(line) AS first_line
    FROM rows
    GROUP BY backbone, train_set, method, stage
),
offsets AS (
    SELECT *, coalesce(sum(stage_epochs) OVER (
        PARTITION BY backbone, train_set, method ORDER BY first_line
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS offset_epochs
    FROM stages
)
SELECT r.backbone, r.train_set, r.method, r.stage, round(r.epoch + o.offset_epochs, 4) AS epoch,
       r.loss, r.val_accuracy
FROM rows r
JOIN offsets o USING (backbone, train_set, method, stage)
WHERE r.loss IS NOT NULL OR r.val_accuracy IS NOT NULL
ORDER BY r.backbone, r.train_set, r.method, r.line
