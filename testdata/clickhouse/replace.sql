ALTER TABLE `salesnav`.`seat` REPLACE PARTITION ('urn:li:contract:9\'9', toDate('2026-03-05')) FROM `salesnav`.`_stage_seat_1`;

ALTER TABLE `salesnav`.`crm_validation` REPLACE PARTITION ('urn:li:crmInstance:(SFDC,00D\\1)', 1772323200123) FROM `salesnav`.`_stage_crm_validation_1`;
