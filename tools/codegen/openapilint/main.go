// Command openapilint checks the REST API's OpenAPI 2.0 document strictly, for the teams that
// generate their clients from it. `make check` runs it on gateway/openapi/nrm.swagger.json:
//
//	openapilint FILE
//
// It prints every problem and exits 1 if there is one (2 if FILE cannot be read as OpenAPI).
// The checks, all of them errors:
//
//   - the document is valid OpenAPI 2.0, as go-openapi/validate checks it: the JSON schema of
//     the specification, every $ref resolves, unique operation ids, path parameters declared
//     and used, no overlapping paths per method, security requirements naming defined schemes,
//     defaults and examples valid for their schemas. Its warnings (e.g. a definition nothing
//     uses) count as errors too: none is turned off;
//   - no two paths differ only in the names of their parameters (/v1/cases/{id} and
//     /v1/cases/{case.id}): OpenAPI forbids it, and the validator checks overlaps only between
//     operations of one method;
//   - the document has a title and a version;
//   - every operation requires the bearer token (an API key in the Authorization header), so
//     that generated clients send it;
//   - every operation declares the errors any call can meet, 400, 401, 403 and 429, and a
//     default, each with the error schema google.rpc.Status (rpcStatus).
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/go-openapi/loads"
	"github.com/go-openapi/spec"
	"github.com/go-openapi/strfmt"
	"github.com/go-openapi/validate"
)

// errorSchema is the definition protoc-gen-openapiv2 makes of google.rpc.Status.
const errorSchema = "#/definitions/rpcStatus"

// everyOperationAnswers are the responses every operation must declare.
var everyOperationAnswers = []string{"400", "401", "403", "429"}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: openapilint FILE")
		os.Exit(2)
	}
	file := os.Args[1]
	raw, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	problems, err := lint(raw)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", file, err)
		os.Exit(2)
	}
	for _, p := range problems {
		fmt.Printf("%s: %s\n", file, p)
	}
	if len(problems) > 0 {
		fmt.Fprintf(os.Stderr, "%s: %d problems\n", file, len(problems))
		os.Exit(1)
	}
	fmt.Printf("%s: valid OpenAPI 2.0, no problems\n", file)
}

// lint returns the problems of the OpenAPI 2.0 document raw, sorted, or an error if raw is not
// one at all.
func lint(raw []byte) ([]string, error) {
	doc, err := loads.Analyzed(json.RawMessage(raw), "")
	if err != nil {
		return nil, err
	}
	// The validator cannot take another version (it fails on it, unchecked).
	if v := doc.Version(); v != "2.0" {
		return nil, fmt.Errorf("not an OpenAPI 2.0 document: swagger is %q", v)
	}
	v := validate.NewSpecValidator(doc.Schema(), strfmt.Default)
	v.SetContinueOnErrors(true)
	res, _ := v.Validate(doc) // res holds the errors and the warnings
	var problems []string
	for _, e := range res.Errors {
		problems = append(problems, e.Error())
	}
	for _, w := range res.Warnings {
		problems = append(problems, "(warning) "+w.Error())
	}
	problems = append(problems, contract(doc.Spec())...)
	slices.Sort(problems)
	return slices.Compact(problems), nil
}

// param is a path parameter, {name}.
var param = regexp.MustCompile(`\{[^}]*\}`)

// contract checks what the portal's client generators rely on beyond valid OpenAPI.
func contract(sw *spec.Swagger) []string {
	var problems []string
	if sw.Info == nil || sw.Info.Title == "" {
		problems = append(problems, "info.title is not set")
	}
	if sw.Info == nil || sw.Info.Version == "" || sw.Info.Version == "version not set" {
		problems = append(problems, "info.version is not set")
	}
	if sw.Paths == nil {
		return problems
	}
	templates := map[string]string{}
	for path, item := range sw.Paths.Paths {
		template := param.ReplaceAllString(path, "{}")
		if other, ok := templates[template]; ok {
			a, b := min(path, other), max(path, other)
			problems = append(problems, fmt.Sprintf("paths %s and %s differ only in parameter names", a, b))
		}
		templates[template] = path
		for method, op := range operations(item) {
			where := method + " " + path
			if !bearer(sw, op) {
				problems = append(problems, where+": does not require the bearer token (an apiKey security scheme in the Authorization header)")
			}
			for _, code := range everyOperationAnswers {
				problems = append(problems, errorResponse(where, code, op.Responses, code)...)
			}
			problems = append(problems, errorResponse(where, "default", op.Responses, "")...)
		}
	}
	return problems
}

// operations are a path's operations by HTTP method.
func operations(item spec.PathItem) map[string]*spec.Operation {
	ops := map[string]*spec.Operation{}
	for method, op := range map[string]*spec.Operation{
		"GET": item.Get, "PUT": item.Put, "POST": item.Post, "DELETE": item.Delete,
		"OPTIONS": item.Options, "HEAD": item.Head, "PATCH": item.Patch,
	} {
		if op != nil {
			ops[method] = op
		}
	}
	return ops
}

// bearer reports whether every way of calling op sends the bearer token.
func bearer(sw *spec.Swagger, op *spec.Operation) bool {
	reqs := sw.Security
	if op.Security != nil {
		reqs = op.Security
	}
	if len(reqs) == 0 {
		return false
	}
	for _, req := range reqs {
		sends := false
		for name := range req {
			s, ok := sw.SecurityDefinitions[name]
			if ok && s.Type == "apiKey" && s.In == "header" && strings.EqualFold(s.Name, "Authorization") {
				sends = true
			}
		}
		if !sends {
			return false
		}
	}
	return true
}

// errorResponse checks that responses declare code ("" for default) with the error schema.
func errorResponse(where, name string, responses *spec.Responses, code string) []string {
	var r *spec.Response
	if responses != nil {
		if code == "" {
			r = responses.Default
		} else {
			var status int
			fmt.Sscan(code, &status)
			if got, ok := responses.StatusCodeResponses[status]; ok {
				r = &got
			}
		}
	}
	switch {
	case r == nil:
		return []string{fmt.Sprintf("%s: declares no %s response", where, name)}
	case r.Schema == nil || r.Schema.Ref.String() != errorSchema:
		return []string{fmt.Sprintf("%s: its %s response is not the error schema %s", where, name, errorSchema)}
	}
	return nil
}
