CREATE DATABASE IF NOT EXISTS `salesnav` ON CLUSTER `analytics`;

CREATE TABLE IF NOT EXISTS `salesnav`.`contracts` ON CLUSTER `analytics`
(
    `contract` String,
    `name` Nullable(String),
    `description` Nullable(String),
    `hasReportingAccess` UInt8,
    `seenAt` DateTime('UTC')
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/salesnav/contracts', '{replica}', `seenAt`)
ORDER BY (`contract`);

CREATE VIEW IF NOT EXISTS `salesnav`.`contracts_final` ON CLUSTER `analytics` AS SELECT * FROM `salesnav`.`contracts` FINAL WHERE `seenAt` = (SELECT max(`seenAt`) FROM `salesnav`.`contracts`);

CREATE TABLE IF NOT EXISTS `salesnav`.`seat` ON CLUSTER `analytics`
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
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/salesnav/seat', '{replica}', `_extracted_at`)
PARTITION BY (`_contract`, `_snapshot_date`)
ORDER BY (`_contract`, `_snapshot_date`, `_row_hash`);

CREATE TABLE IF NOT EXISTS `salesnav`.`seat_dist` ON CLUSTER `analytics`
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
ENGINE = Distributed('analytics', 'salesnav', 'seat', cityHash64(`_contract`, `_snapshot_date`));

CREATE VIEW IF NOT EXISTS `salesnav`.`seat_final` ON CLUSTER `analytics` AS SELECT * FROM `salesnav`.`seat_dist` FINAL;

CREATE TABLE IF NOT EXISTS `salesnav`.`activity` ON CLUSTER `analytics`
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
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/salesnav/activity', '{replica}', `_extracted_at`)
PARTITION BY toYYYYMM(`createdAt`)
ORDER BY (`_contract`, `activityId`);

CREATE TABLE IF NOT EXISTS `salesnav`.`activity_dist` ON CLUSTER `analytics`
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
ENGINE = Distributed('analytics', 'salesnav', 'activity', cityHash64(`_contract`, `activityId`));

CREATE VIEW IF NOT EXISTS `salesnav`.`activity_final` ON CLUSTER `analytics` AS SELECT * FROM `salesnav`.`activity_dist` FINAL;

CREATE TABLE IF NOT EXISTS `salesnav`.`activity_outcome` ON CLUSTER `analytics`
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
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/salesnav/activity_outcome', '{replica}', `_extracted_at`)
PARTITION BY ifNull(toYYYYMM(`createdAt`), 0)
ORDER BY (`_contract`, `activityId`, `activityType`);

CREATE TABLE IF NOT EXISTS `salesnav`.`activity_outcome_dist` ON CLUSTER `analytics`
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
ENGINE = Distributed('analytics', 'salesnav', 'activity_outcome', cityHash64(`_contract`, `activityId`, `activityType`));

CREATE VIEW IF NOT EXISTS `salesnav`.`activity_outcome_final` ON CLUSTER `analytics` AS SELECT * FROM `salesnav`.`activity_outcome_dist` FINAL;

CREATE TABLE IF NOT EXISTS `salesnav`.`crm_validation` ON CLUSTER `analytics`
(
    `recordId` Nullable(String),
    `recordType` Nullable(String),
    `firstName` Nullable(String),
    `lastName` Nullable(String),
    `crmCompanyName` Nullable(String),
    `linkedInCompanyName` Nullable(String),
    `detectedAt` Nullable(String),
    `_crm_instance` String,
    `_export_start_at` Int64,
    `_next_export_start_at` Int64,
    `_job_id` Int64,
    `_extracted_at` DateTime('UTC'),
    `_row_hash` UInt64
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/salesnav/crm_validation', '{replica}', `_extracted_at`)
PARTITION BY (`_crm_instance`, `_export_start_at`)
ORDER BY (`_crm_instance`, `_export_start_at`, `_row_hash`);

CREATE TABLE IF NOT EXISTS `salesnav`.`crm_validation_dist` ON CLUSTER `analytics`
(
    `recordId` Nullable(String),
    `recordType` Nullable(String),
    `firstName` Nullable(String),
    `lastName` Nullable(String),
    `crmCompanyName` Nullable(String),
    `linkedInCompanyName` Nullable(String),
    `detectedAt` Nullable(String),
    `_crm_instance` String,
    `_export_start_at` Int64,
    `_next_export_start_at` Int64,
    `_job_id` Int64,
    `_extracted_at` DateTime('UTC'),
    `_row_hash` UInt64
)
ENGINE = Distributed('analytics', 'salesnav', 'crm_validation', cityHash64(`_crm_instance`, `_export_start_at`));

CREATE VIEW IF NOT EXISTS `salesnav`.`crm_validation_final` ON CLUSTER `analytics` AS SELECT * FROM `salesnav`.`crm_validation_dist` FINAL;

CREATE TABLE IF NOT EXISTS `salesnav`.`profile_associations` ON CLUSTER `analytics`
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
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/salesnav/profile_associations', '{replica}', `fetchedAt`)
ORDER BY (`instanceId`, `partner`, `recordId`);

CREATE VIEW IF NOT EXISTS `salesnav`.`profile_associations_final` ON CLUSTER `analytics` AS SELECT * FROM `salesnav`.`profile_associations` FINAL;

CREATE TABLE IF NOT EXISTS `salesnav`.`_salesnav_state` ON CLUSTER `analytics`
(
    `stream` String,
    `contract` String,
    `cursor` Date,
    `cursor_ms` Int64,
    `updated_at` DateTime('UTC'),
    `deleted` UInt8,
    `version` UInt64
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/salesnav/_salesnav_state', '{replica}', `version`)
ORDER BY (`stream`, `contract`);

CREATE TABLE IF NOT EXISTS `salesnav`.`_salesnav_jobs` ON CLUSTER `analytics`
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
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/salesnav/_salesnav_jobs', '{replica}', `version`)
ORDER BY (`stream`, `contract`);

DROP TABLE IF EXISTS `salesnav`.`activity_dist` ON CLUSTER `analytics`;

ALTER TABLE `salesnav`.`activity` ON CLUSTER `analytics` ADD COLUMN `region` Nullable(String);

ALTER TABLE `salesnav`.`_salesnav_state` ADD COLUMN `cursor_ms` Int64;

CREATE TABLE `salesnav`.`_stage_seat_1`
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
