package natsbus

import (
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Subject prefixes and stream names. Each area publishes under its own prefix into its own
// stream; deploy/nats/streams.md describes the same streams for operators.
const (
	StreamCase     = "NRM_CASE"
	StreamReferral = "NRM_REFERRAL"
	StreamMeeting  = "NRM_MEETING"
	StreamReport   = "NRM_REPORT"
	StreamAudit    = "NRM_AUDIT"
	StreamDLQ      = "NRM_DLQ"

	// SubjectDLQPrefix starts the subject of every dead-lettered message:
	// nrm.dlq.<consumer>.<original subject>.
	SubjectDLQPrefix = "nrm.dlq."
)

// DuplicateWindow is how long JetStream remembers a Nats-Msg-Id. A relay that crashed after a
// publish and before recording it re-publishes within this window and the stream drops the copy;
// after it, consumers' idempotency still applies each event once.
const DuplicateWindow = 10 * time.Minute

// Streams returns the configuration of every stream, each with the given number of replicas
// (1 on a single server, 3 on a production cluster). Events carry no personal data and are the
// source projections are rebuilt from, so they are kept (limits retention, no age limit) except
// the dead letters, kept 30 days for an operator to inspect.
func Streams(ns Namespace, replicas int) []jetstream.StreamConfig {
	event := func(name, desc string, subjects ...string) jetstream.StreamConfig {
		for i, s := range subjects {
			subjects[i] = ns.Subject(s)
		}
		return jetstream.StreamConfig{
			Name:        ns.Stream(name),
			Description: desc,
			Subjects:    subjects,
			Storage:     jetstream.FileStorage,
			Retention:   jetstream.LimitsPolicy,
			Duplicates:  DuplicateWindow,
			Replicas:    max(replicas, 1),
		}
	}
	dlq := event(StreamDLQ, "messages no consumer could process", SubjectDLQPrefix+">")
	dlq.MaxAge = 30 * 24 * time.Hour
	return []jetstream.StreamConfig{
		event(StreamCase, "case registry events (pseudonymous)", "nrm.case.>"),
		event(StreamReferral, "referral events (pseudonymous)", "nrm.referral.>"),
		// The secretariat's: meetings, their decisions and action items, correspondence, and the
		// rules of procedure it adopts.
		event(StreamMeeting, "secretariat events: meetings, decisions, actions, correspondence, rules of procedure",
			"nrm.meeting.>", "nrm.decision.>", "nrm.action.>", "nrm.correspondence.>", "nrm.rules.>"),
		event(StreamReport, "reporting events", "nrm.report.>"),
		event(StreamAudit, "audit records (no personal data)", "nrm.audit.>"),
		dlq,
	}
}

// Namespace separates systems that share one NATS deployment (several NRMs of a region, staging
// beside production, concurrent test runs): streams are named "<NS>_NRM_CASE" and subjects
// "<ns>.nrm.case.registered". The empty namespace is the plain names.
type Namespace string

// Stream returns the namespaced stream name.
func (n Namespace) Stream(name string) string {
	if n == "" {
		return name
	}
	return strings.ToUpper(string(n)) + "_" + name
}

// Subject returns the namespaced subject.
func (n Namespace) Subject(s string) string {
	if n == "" {
		return s
	}
	return string(n) + "." + s
}
