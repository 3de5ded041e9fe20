CREATE TABLE IF NOT EXISTS `salesnav`.`_salesnav_state`
(
    `stream` String,
    `contract` String,
    `cursor` Date,
    `cursor_ms` Int64,
    `updated_at` DateTime('UTC'),
    `deleted` UInt8,
    `version` UInt64
)
ENGINE = ReplacingMergeTree(`version`)
ORDER BY (`stream`, `contract`);

CREATE TABLE IF NOT EXISTS `salesnav`.`_salesnav_jobs`
(
    `stream` String,
    `contract` String,
    `job_id` Int64,
    `window_start` Date,
    `window_end` Date,
    `created_at` DateTime('UTC'),
    `active` UInt8,
    `version` UInt64
)
ENGINE = ReplacingMergeTree(`version`)
ORDER BY (`stream`, `contract`);
