// Package apierr builds the gRPC errors the services return, with details a caller can act on
// (google.rpc.BadRequest field violations, ResourceInfo, ErrorInfo). The gateway turns them into
// JSON with the matching HTTP status.
package apierr

import (
	"fmt"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
)

// Domain is the ErrorInfo domain of every error reason the system defines.
const Domain = "nrm.gov.al"

// Violations collects field violations while a request is validated.
type Violations []*errdetails.BadRequest_FieldViolation

// Add records that field (a path such as "profile.citizenships[1]") is wrong, and why.
func (v *Violations) Add(field, format string, args ...any) {
	*v = append(*v, &errdetails.BadRequest_FieldViolation{Field: field, Description: fmt.Sprintf(format, args...)})
}

// Err returns InvalidArgument listing every violation, or nil when there are none.
func (v Violations) Err() error {
	if len(v) == 0 {
		return nil
	}
	msg := v[0].Field + ": " + v[0].Description
	if len(v) > 1 {
		msg = fmt.Sprintf("%s (and %d more problems)", msg, len(v)-1)
	}
	return withDetails(codes.InvalidArgument, "invalid request: "+msg, &errdetails.BadRequest{FieldViolations: v})
}

// ViolatedFields returns the field paths that err's google.rpc.BadRequest names, in order; none
// when err carries no such detail.
func ViolatedFields(err error) []string {
	var fields []string
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				fields = append(fields, v.GetField())
			}
		}
	}
	return fields
}

// InvalidField is InvalidArgument for a single field.
func InvalidField(field, format string, args ...any) error {
	var v Violations
	v.Add(field, format, args...)
	return v.Err()
}

// NotFound reports that the resource of the given type and name does not exist.
func NotFound(resourceType, name string) error {
	return withDetails(codes.NotFound, fmt.Sprintf("%s %q not found", resourceType, name),
		&errdetails.ResourceInfo{ResourceType: resourceType, ResourceName: name})
}

// FailedPrecondition reports a request refused in the current state, with a machine-readable
// reason (upper snake case) and metadata.
func FailedPrecondition(reason, message string, metadata map[string]string) error {
	return withDetails(codes.FailedPrecondition, message,
		&errdetails.ErrorInfo{Reason: reason, Domain: Domain, Metadata: metadata})
}

// Aborted reports a write that lost a concurrency race (REST 409): the resource moved on since
// the caller read it. The caller re-reads and decides again; metadata says what it is now.
func Aborted(reason, message string, metadata map[string]string) error {
	return withDetails(codes.Aborted, message,
		&errdetails.ErrorInfo{Reason: reason, Domain: Domain, Metadata: metadata})
}

// PermissionDenied reports an authenticated caller who may not do this to this resource (the
// method is allowed to its role, the object is not), with the reason.
func PermissionDenied(reason, message string, metadata map[string]string) error {
	return withDetails(codes.PermissionDenied, message,
		&errdetails.ErrorInfo{Reason: reason, Domain: Domain, Metadata: metadata})
}

// AlreadyExists reports that what the request would create exists already (REST 409), with the
// reason and what identifies it.
func AlreadyExists(reason, message string, metadata map[string]string) error {
	return WithInfo(codes.AlreadyExists, reason, message, metadata)
}

// WithInfo is a status of any code with a google.rpc.ErrorInfo: the reason a client acts on.
func WithInfo(c codes.Code, reason, message string, metadata map[string]string) error {
	return withDetails(c, message, &errdetails.ErrorInfo{Reason: reason, Domain: Domain, Metadata: metadata})
}

// Unavailable reports a dependency that is down; the caller may retry.
func Unavailable(message string) error {
	return status.Error(codes.Unavailable, message)
}

func withDetails(c codes.Code, msg string, details ...protoadapt.MessageV1) error {
	st, err := status.New(c, msg).WithDetails(details...)
	if err != nil {
		// Only a detail that cannot be marshaled fails here; the code and message still stand.
		return status.Error(c, msg)
	}
	return st.Err()
}

// FieldViolations returns the field violations an error carries (google.rpc.BadRequest), for a
// caller that acts on them field by field; none for any other error.
func FieldViolations(err error) []*errdetails.BadRequest_FieldViolation {
	var out []*errdetails.BadRequest_FieldViolation
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			out = append(out, br.GetFieldViolations()...)
		}
	}
	return out
}
