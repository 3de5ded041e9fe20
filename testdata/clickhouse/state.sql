CREATE TABLE IF NOT EXISTS `salesnav`.`_salesnav_state`
(
    `stream` String,
    `contract` String,
    `cursor` Date,
    `updated_at` DateTime('UTC'),
    `version` UInt64
)
ENGINE = ReplacingMergeTree(`version`)
ORDER BY (`stream`, `contract`);
