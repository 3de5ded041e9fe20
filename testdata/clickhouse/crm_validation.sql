CREATE TABLE IF NOT EXISTS `salesnav`.`crm_validation`
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
ENGINE = ReplacingMergeTree(`_extracted_at`)
PARTITION BY (`_crm_instance`, `_export_start_at`)
ORDER BY (`_crm_instance`, `_export_start_at`, `_row_hash`);

CREATE VIEW IF NOT EXISTS `salesnav`.`crm_validation_final` AS SELECT * FROM `salesnav`.`crm_validation` FINAL;
