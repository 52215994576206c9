// Package pagination implements the page size rules and opaque cursor tokens every list API
// shares. A token carries the sort key of the last item returned; it is opaque to callers and
// validated when it comes back.
package pagination

import (
	"encoding/base64"
	"encoding/json"
	"strconv"

	"github.com/nrm-albania/nrm/services/platform/apierr"
)

// Page size bounds shared by every list API.
const (
	DefaultPageSize = 50
	MaxPageSize     = 100
)

// Size returns the page size to use for a request's page_size.
func Size(requested int32) (int, error) {
	switch {
	case requested < 0:
		return 0, apierr.InvalidField("page_size", "must not be negative, got %d", requested)
	case requested == 0:
		return DefaultPageSize, nil
	case requested > MaxPageSize:
		return 0, apierr.InvalidField("page_size", "must be at most %d, got %d", MaxPageSize, requested)
	}
	return int(requested), nil
}

// Parse returns a list request's page size (Size) and the sort key its page token resumes after
// (After; "" for the first page).
func Parse(pageSize int32, pageToken string) (size int, after string, err error) {
	if size, err = Size(pageSize); err != nil {
		return 0, "", err
	}
	after, err = After(pageToken)
	return size, after, err
}

// ParsePosition is Parse for lists whose token carries a position: a number, 1 or more (0 for
// the first page), as PositionToken makes it.
func ParsePosition(pageSize int32, pageToken string) (size int, after int64, err error) {
	size, token, err := Parse(pageSize, pageToken)
	if err != nil || token == "" {
		return size, 0, err
	}
	if after, err = strconv.ParseInt(token, 10, 64); err != nil || after < 1 {
		return 0, 0, apierr.InvalidField("page_token", "is not a token returned by this API")
	}
	return size, after, nil
}

// PositionToken returns the page token that resumes after position n.
func PositionToken(n int64) string { return Token(strconv.FormatInt(n, 10)) }

type cursor struct {
	After string `json:"a"`
}

// Token returns the page token that resumes after the item whose sort key is after.
func Token(after string) string {
	b, _ := json.Marshal(cursor{After: after})
	return base64.RawURLEncoding.EncodeToString(b)
}

// After decodes a page token into the sort key to resume after; "" for the first page.
func After(token string) (string, error) {
	if token == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	var c cursor
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.After == "" {
		return "", apierr.InvalidField("page_token", "is not a token returned by this API")
	}
	return c.After, nil
}
