CREATE TABLE IF NOT EXISTS `salesnav`.`seat`
(
    `seatId` Nullable(Int64),
    `firstName` Nullable(String),
    `lastName` Nullable(String),
    `seatStatus` Nullable(String),
    `socialSellingIndex` Nullable(Float64),
    `ssiProfessionalBrand` Nullable(Float64),
    `ssiFindRightPeople` Nullable(Float64),
    `ssiEngageWithInsights` Nullable(Float64),
    `ssiBuildRelationships` Nullable(Float64),
    `totalConnections` Nullable(Int64),
    `_contract` String,
    `_window_start` DateTime('UTC'),
    `_window_end` DateTime('UTC'),
    `_job_id` Int64,
    `_extracted_at` DateTime('UTC'),
    `_snapshot_date` Date,
    `_row_hash` UInt64
)
ENGINE = ReplacingMergeTree(`_extracted_at`)
PARTITION BY (`_contract`, `_snapshot_date`)
ORDER BY (`_contract`, `_snapshot_date`, `_row_hash`);

CREATE VIEW IF NOT EXISTS `salesnav`.`seat_final` AS SELECT * FROM `salesnav`.`seat` FINAL;
