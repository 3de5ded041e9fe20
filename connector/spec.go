package connector

import (
	"github.com/salesnav-etl/salesnav-etl/schema"
)

// ConfigSchema is the JSON schema (draft-07) of Config: Airbyte's
// connectionSpecification, the settings of a Meltano extractor. Secrets
// carry airbyte_secret (Airbyte masks them and never shows them again);
// order and title lay out Airbyte's form.
func ConfigSchema() map[string]any {
	secret := func(title, desc string) map[string]any {
		return map[string]any{"type": "string", "title": title, "description": desc, "airbyte_secret": true}
	}
	names := make([]any, 0)
	for _, st := range schema.All() {
		names = append(names, st.Name)
	}
	date := func(title, desc string, order int) map[string]any {
		return map[string]any{"type": "string", "title": title, "description": desc, "format": "date",
			"pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "examples": []any{"2026-01-01"}, "order": order}
	}
	return map[string]any{
		"$schema":              "http://json-schema.org/draft-07/schema#",
		"title":                "LinkedIn Sales Navigator (salesnav-etl)",
		"type":                 "object",
		"required":             []any{"credentials", "start_date"},
		"additionalProperties": false,
		"properties": map[string]any{
			"credentials": map[string]any{
				"title": "Authentication", "type": "object", "order": 0,
				"oneOf": []any{
					map[string]any{
						"title": "OAuth2.0 (refresh token)", "type": "object",
						"required": []any{"auth_type", "client_id", "client_secret", "refresh_token"},
						"properties": map[string]any{
							"auth_type": map[string]any{"type": "string", "const": AuthOAuth, "order": 0},
							"client_id": map[string]any{"type": "string", "title": "Client ID", "order": 1,
								"description": "The LinkedIn application's client id. With the secret, member tokens are renewed from the refresh token, and the CRM streams use client credentials (2-legged)."},
							"client_secret": withOrder(secret("Client secret", "The LinkedIn application's client secret."), 2),
							"refresh_token": withOrder(secret("Refresh token", "The member's refresh token (valid 365 days)."), 3),
						},
					},
					map[string]any{
						"title": "Access token", "type": "object",
						"required": []any{"auth_type", "access_token"},
						"properties": map[string]any{
							"auth_type":    map[string]any{"type": "string", "const": AuthAccessToken, "order": 0},
							"access_token": withOrder(secret("Access token", "A member access token (valid 60 days), used for every stream."), 1),
						},
					},
				},
			},
			"start_date": date("Start date", "The first day (UTC) a stream read from scratch, or in full refresh, loads.", 1),
			"end_date":   date("End date", "The day (UTC) the sync loads up to, exclusive. Default: yesterday, as LinkedIn refreshes its data once every 24 hours.", 2),
			"streams": map[string]any{
				"type": "array", "title": "Streams", "order": 3, "uniqueItems": true,
				"description": "The streams the connector offers (its catalog). Default: the default streams. crm_validation needs crm_instances; profile_associations looks up the CRM records read in the same sync and association_keys.",
				"items":       map[string]any{"type": "string", "enum": names},
			},
			"crm_instances": map[string]any{
				"type": "array", "title": "CRM instances", "order": 4,
				"description": "The CRM instances whose data validation exports crm_validation reads.",
				"items": map[string]any{"type": "string", "pattern": `^urn:li:crmInstance:\(.+,.+\)$`,
					"examples": []any{"urn:li:crmInstance:(SFDC,00D5e000000abcd)"}},
			},
			"association_keys": map[string]any{
				"type": "array", "title": "Association keys", "order": 5,
				"description": "CRM records whose Sales Navigator profile profile_associations looks up, besides the records crm_validation reads.",
				"items": map[string]any{
					"type": "object", "additionalProperties": false,
					"required": []any{"instance_id", "partner", "record_id"},
					"properties": map[string]any{
						"instance_id": map[string]any{"type": "string", "minLength": 1},
						"partner":     map[string]any{"type": "string", "minLength": 1},
						"record_id":   map[string]any{"type": "string", "minLength": 1},
					},
				},
			},
			"lookback_days": map[string]any{
				"type": "integer", "title": "Lookback days", "order": 6, "minimum": 0, "maximum": MaxLookbackDays, "default": DefaultLookbackDays,
				"description": "Days read again before a stream's state, when there is something new, to catch data LinkedIn adds late.",
			},
			"max_reject_ratio": map[string]any{
				"type": "number", "title": "Maximum reject ratio", "order": 7, "minimum": 0, "maximum": 1, "default": 0,
				"description": "The share of a window's rows that may be rejected (failing the stream's checks) and the window still be read. Rejected rows are never sent as records; they are counted in the log.",
			},
			"api_url": map[string]any{
				"type": "string", "title": "API URL", "order": 8, "default": DefaultAPIURL,
				"description": "The API root. Plain http only on loopback (a fake API).",
			},
		},
	}
}

func withOrder(m map[string]any, order int) map[string]any {
	m["order"] = order
	return m
}
