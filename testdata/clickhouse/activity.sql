CREATE TABLE IF NOT EXISTS `salesnav`.`activity`
(
    `activityId` String,
    `activityType` LowCardinality(String),
    `createdAt` DateTime('UTC'),
    `seatId` Int64,
    `memberIdentityKey` Nullable(String),
    `_contract` String,
    `_window_start` DateTime('UTC'),
    `_window_end` DateTime('UTC'),
    `_job_id` Int64,
    `_extracted_at` DateTime('UTC')
)
ENGINE = ReplacingMergeTree(`_extracted_at`)
PARTITION BY toYYYYMM(`createdAt`)
ORDER BY (`_contract`, `activityId`);

CREATE VIEW IF NOT EXISTS `salesnav`.`activity_final` AS SELECT * FROM `salesnav`.`activity` FINAL;
