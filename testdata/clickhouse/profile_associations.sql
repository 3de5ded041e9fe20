CREATE TABLE IF NOT EXISTS `salesnav`.`profile_associations`
(
    `instanceId` String,
    `partner` String,
    `recordId` String,
    `status` LowCardinality(String),
    `httpStatus` Int64,
    `member` Nullable(String),
    `profile` Nullable(String),
    `profilePhoto` Nullable(String),
    `error` Nullable(String),
    `fetchedAt` DateTime('UTC')
)
ENGINE = ReplacingMergeTree(`fetchedAt`)
ORDER BY (`instanceId`, `partner`, `recordId`);

CREATE VIEW IF NOT EXISTS `salesnav`.`profile_associations_final` AS SELECT * FROM `salesnav`.`profile_associations` FINAL;
