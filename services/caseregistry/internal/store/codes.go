package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/nrm-albania/nrm/services/caseregistry/internal/domain"
	"github.com/nrm-albania/nrm/services/platform/mongodb"
)

// CodeCollection holds one document per case code ever handed out, _id = the code. Inserting it
// is the claim: the unique _id makes a code impossible to hand out twice, on every backend, and
// a claimed code is never released, so it is never reused.
const CodeCollection = "case_codes"

// ErrCodesExhausted means a year's five-digit sequence is used up.
var ErrCodesExhausted = errors.New("case codes of the year exhausted")

// Codes hands out case codes, VT-YYYY-NNNNN, in sequence within each year.
type Codes struct {
	coll *mongo.Collection
	mu   sync.Mutex
	last map[int]int64 // highest sequence known claimed, per year
}

// NewCodes returns the code issuer over db.
func NewCodes(db *mongo.Database) *Codes {
	return &Codes{coll: db.Collection(CodeCollection), last: map[int]int64{}}
}

type codeClaim struct {
	Code      string    `bson:"_id"`
	CaseID    string    `bson:"case_id"`
	ClaimedAt time.Time `bson:"claimed_at"`
}

// Claim hands out the next code of year for caseID. Other processes may claim concurrently:
// a taken code (mongodb.Claim) means the sequence number was taken, and the next one is tried.
// Codes are not followed one by one from 1 (mongodb.Follow) as versions are: a year holds
// thousands, so a process starts from the highest claimed, found by a range of _id, once.
func (c *Codes) Claim(ctx context.Context, year int, caseID string, now time.Time) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	last, known := c.last[year]
	if !known {
		var err error
		if last, err = c.highest(ctx, year); err != nil {
			return "", err
		}
	}
	for seq := last + 1; seq <= domain.MaxCodeSequence; seq++ {
		code := domain.Code(year, seq)
		err := mongodb.Claim(ctx, c.coll, codeClaim{Code: code, CaseID: caseID, ClaimedAt: now.UTC()})
		if errors.Is(err, mongodb.ErrTaken) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("claim case code %s: %w", code, err)
		}
		c.last[year] = seq
		return code, nil
	}
	return "", fmt.Errorf("%w: %d", ErrCodesExhausted, year)
}

// highest finds the highest sequence claimed in year, 0 when none; codes sort as strings.
func (c *Codes) highest(ctx context.Context, year int) (int64, error) {
	prefix := domain.CodePrefix(year)
	var top codeClaim
	err := c.coll.FindOne(ctx,
		bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: prefix}, {Key: "$lt", Value: prefix + "~"}}}},
		options.FindOne().SetSort(bson.D{{Key: "_id", Value: -1}})).Decode(&top)
	if mongodb.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("find the last case code of %d: %w", year, err)
	}
	return strconv.ParseInt(strings.TrimPrefix(top.Code, prefix), 10, 64)
}

// CaseID returns the id of the case that holds code, or ErrNotFound: one lookup by _id. A code
// claimed by a registration that then failed names a case that does not exist.
func (c *Codes) CaseID(ctx context.Context, code string) (string, error) {
	var claim codeClaim
	err := c.coll.FindOne(ctx, bson.D{{Key: "_id", Value: code}}).Decode(&claim)
	if mongodb.IsNotFound(err) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("look up case code %s: %w", code, err)
	}
	return claim.CaseID, nil
}
