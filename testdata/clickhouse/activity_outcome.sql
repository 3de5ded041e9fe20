CREATE TABLE IF NOT EXISTS `salesnav`.`activity_outcome`
(
    `activityId` String,
    `activityType` String,
    `createdAt` Nullable(DateTime('UTC')),
    `seatId` Nullable(Int64),
    `_contract` String,
    `_window_start` DateTime('UTC'),
    `_window_end` DateTime('UTC'),
    `_job_id` Int64,
    `_extracted_at` DateTime('UTC')
)
ENGINE = ReplacingMergeTree(`_extracted_at`)
PARTITION BY ifNull(toYYYYMM(`createdAt`), 0)
ORDER BY (`_contract`, `activityId`, `activityType`);

CREATE VIEW IF NOT EXISTS `salesnav`.`activity_outcome_final` AS SELECT * FROM `salesnav`.`activity_outcome` FINAL;
