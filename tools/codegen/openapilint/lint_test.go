package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// valid is a small document that passes every check, in the shape protoc-gen-openapiv2 writes.
func valid() map[string]any {
	status := map[string]any{"$ref": "#/definitions/rpcStatus"}
	errResp := func(d string) map[string]any { return map[string]any{"description": d, "schema": status} }
	op := func(id string) map[string]any {
		return map[string]any{
			"operationId": id,
			"parameters":  []any{map[string]any{"name": "id", "in": "path", "required": true, "type": "string"}},
			"responses": map[string]any{
				"200": map[string]any{"description": "ok", "schema": map[string]any{"type": "object"}},
				"400": errResp("bad"), "401": errResp("who"), "403": errResp("no"), "429": errResp("slow"),
				"default": errResp("other"),
			},
		}
	}
	return map[string]any{
		"swagger":             "2.0",
		"info":                map[string]any{"title": "NRM Albania API", "version": "1.0.0"},
		"securityDefinitions": map[string]any{"bearer": map[string]any{"type": "apiKey", "in": "header", "name": "Authorization"}},
		"security":            []any{map[string]any{"bearer": []any{}}},
		"paths": map[string]any{
			"/v1/cases/{id}": map[string]any{"get": op("GetCase")},
		},
		"definitions": map[string]any{
			"rpcStatus": map[string]any{"type": "object", "properties": map[string]any{
				"code": map[string]any{"type": "integer", "format": "int32"}, "message": map[string]any{"type": "string"},
			}},
		},
	}
}

func getCase(d map[string]any) map[string]any {
	return d["paths"].(map[string]any)["/v1/cases/{id}"].(map[string]any)["get"].(map[string]any)
}

func TestLint(t *testing.T) {
	tests := []struct {
		name   string
		change func(d map[string]any)
		want   string // a problem the document must have; "" for none at all
	}{
		{"valid", func(map[string]any) {}, ""},
		{"against the specification's schema", func(d map[string]any) { d["schemes"] = []any{"ftp"} }, "schemes"},
		{"a dangling $ref", func(d map[string]any) { delete(d["definitions"].(map[string]any), "rpcStatus") }, "rpcStatus"},
		{"a path parameter not declared", func(d map[string]any) { delete(getCase(d), "parameters") }, "id"},
		{"a definition nothing uses (a warning)", func(d map[string]any) {
			d["definitions"].(map[string]any)["v1Unused"] = map[string]any{"type": "object"}
		}, "(warning)"},
		{"paths differing only in parameter names", func(d map[string]any) {
			op := getCase(d)
			patch := map[string]any{"operationId": "UpdateCase", "parameters": []any{map[string]any{"name": "case.id", "in": "path", "required": true, "type": "string"}},
				"responses": op["responses"]}
			d["paths"].(map[string]any)["/v1/cases/{case.id}"] = map[string]any{"patch": patch}
		}, "paths /v1/cases/{case.id} and /v1/cases/{id} differ only in parameter names"},
		{"no title", func(d map[string]any) { delete(d["info"].(map[string]any), "title") }, "info.title is not set"},
		{"the generator's placeholder version", func(d map[string]any) { d["info"].(map[string]any)["version"] = "version not set" }, "info.version is not set"},
		{"no security at all", func(d map[string]any) { delete(d, "security") }, "GET /v1/cases/{id}: does not require the bearer token"},
		{"an operation opting out of security", func(d map[string]any) { getCase(d)["security"] = []any{} }, "GET /v1/cases/{id}: does not require the bearer token"},
		{"a scheme not in the Authorization header", func(d map[string]any) {
			d["securityDefinitions"].(map[string]any)["bearer"].(map[string]any)["name"] = "X-Token"
		}, "GET /v1/cases/{id}: does not require the bearer token"},
		{"no 401", func(d map[string]any) { delete(getCase(d)["responses"].(map[string]any), "401") }, "GET /v1/cases/{id}: declares no 401 response"},
		{"no 429", func(d map[string]any) { delete(getCase(d)["responses"].(map[string]any), "429") }, "GET /v1/cases/{id}: declares no 429 response"},
		{"no default", func(d map[string]any) { delete(getCase(d)["responses"].(map[string]any), "default") }, "GET /v1/cases/{id}: declares no default response"},
		{"a 403 without the error schema", func(d map[string]any) {
			getCase(d)["responses"].(map[string]any)["403"] = map[string]any{"description": "no"}
		}, "GET /v1/cases/{id}: its 403 response is not the error schema #/definitions/rpcStatus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := valid()
			tt.change(d)
			raw, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			problems, err := lint(raw)
			if err != nil {
				t.Fatalf("lint: %v", err)
			}
			if tt.want == "" {
				if len(problems) != 0 {
					t.Errorf("problems %q, want none", problems)
				}
				return
			}
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tt.want) }) {
				t.Errorf("problems %q, want one containing %q", problems, tt.want)
			}
		})
	}
}

func TestLintRefusesWhatIsNotADocument(t *testing.T) {
	for _, raw := range []string{``, `{`, `[]`, `"swagger"`, `{}`, `{"swagger":"3.0","info":{"title":"t","version":"1"},"paths":{}}`} {
		if problems, err := lint([]byte(raw)); err == nil {
			t.Errorf("lint(%q) = %q, nil; want an error", raw, problems)
		}
	}
}
