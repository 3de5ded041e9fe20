CREATE TABLE IF NOT EXISTS `salesnav`.`contracts`
(
    `contract` String,
    `name` Nullable(String),
    `description` Nullable(String),
    `hasReportingAccess` UInt8,
    `seenAt` DateTime('UTC')
)
ENGINE = ReplacingMergeTree(`seenAt`)
ORDER BY (`contract`);

CREATE VIEW IF NOT EXISTS `salesnav`.`contracts_final` AS SELECT * FROM `salesnav`.`contracts` FINAL WHERE `seenAt` = (SELECT max(`seenAt`) FROM `salesnav`.`contracts`);
