package main

import (
	"context"
	"strings"
	"testing"
)

// An anchor is about the whole chain: with --object it would be silently ignored, so the
// command refuses the pair before connecting to anything.
func TestAuditVerifyRefusesAnAnchorWithAnObject(t *testing.T) {
	err := verifyAudit(context.Background(), []string{
		"--mongo-uri", "mongodb://127.0.0.1:1/", "--object", "case-1",
		"--anchor", "1:" + strings.Repeat("a", 64),
	})
	if err == nil || !strings.Contains(err.Error(), "--anchor") {
		t.Errorf("error %v, want one naming --anchor", err)
	}
}
