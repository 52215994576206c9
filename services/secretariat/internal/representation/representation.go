// Package representation keeps who represents each institution in the Authority: each member's
// representative and substitute (point 2), and the contacts of invited institutions (point 3).
// These are staff contacts, never victims' data. Each institution's is an aggregate of the
// platform's store, so that every change is kept with who made it and when.
package representation

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	secretariatv1 "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
	"github.com/nrm-albania/nrm/services/platform/aggregate"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/mongodb"
)

// Contact is a staff contact.
type Contact struct {
	Name     string `bson:"name"`
	Position string `bson:"position,omitempty"`
	Email    string `bson:"email"`
}

// Representation is an institution's, as stored.
type Representation struct {
	Institution    string    `bson:"_id"`
	Version        int64     `bson:"version"`
	Member         bool      `bson:"member"`
	Representative Contact   `bson:"representative"`
	Substitute     *Contact  `bson:"substitute,omitempty"`
	EffectiveFrom  string    `bson:"effective_from"`
	UpdatedAt      time.Time `bson:"updated_at"`
}

// AggregateID, AggregateVersion and AtVersion make a representation an aggregate.
func (r Representation) AggregateID() string     { return r.Institution }
func (r Representation) AggregateVersion() int64 { return r.Version }
func (r Representation) AtVersion(v int64, at time.Time) Representation {
	r.Version, r.UpdatedAt = v, at
	return r
}

// Addresses are the e-mail addresses invitations go to: the representative's and the
// substitute's.
func (r Representation) Addresses() []string {
	out := []string{r.Representative.Email}
	if r.Substitute != nil && r.Substitute.Email != "" && r.Substitute.Email != r.Representative.Email {
		out = append(out, r.Substitute.Email)
	}
	return out
}

// Validate checks a representation sent by a caller (prefix: where it is in the request).
func (r Representation) Validate(prefix string) error {
	var v apierr.Violations
	contact := func(field string, c Contact) {
		if n := len(strings.TrimSpace(c.Name)); n == 0 || n > 200 {
			v.Add(prefix+field+".name", "is required, at most 200 characters")
		}
		if len(c.Position) > 200 {
			v.Add(prefix+field+".position", "must be at most 200 characters")
		}
		if a, err := mail.ParseAddress(c.Email); err != nil || a.Address != c.Email {
			v.Add(prefix+field+".email", "must be an e-mail address such as name@example.al")
		}
	}
	contact("representative", r.Representative)
	if r.Substitute != nil {
		contact("substitute", *r.Substitute)
	}
	if _, err := time.Parse(time.DateOnly, r.EffectiveFrom); err != nil {
		v.Add(prefix+"effective_from", "must be a date YYYY-MM-DD")
	}
	return v.Err()
}

// Store keeps the representations.
type Store struct {
	*aggregate.Store[Representation, aggregate.Change]
}

// New returns the store in db: collections "representations" and "representation_revisions".
func New(db *mongo.Database) *Store {
	return &Store{aggregate.New[Representation, aggregate.Change](db, aggregate.Spec{Name: "representation"})}
}

// All returns every representation, members first, in code order: a few dozen, read whole.
func (s *Store) All(ctx context.Context) ([]Representation, error) {
	cur, err := s.Collection().Find(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("read the representations: %w", mongodb.Classify(err))
	}
	var out []Representation
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("read the representations: %w", mongodb.Classify(err))
	}
	slices.SortFunc(out, func(a, b Representation) int {
		if a.Member != b.Member {
			if a.Member {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Institution, b.Institution)
	})
	return out, nil
}

// Seed creates the representations given where none is recorded yet; idempotent, and never
// overwrites one the secretariat set.
func (s *Store) Seed(ctx context.Context, rs []Representation, now time.Time) error {
	for _, r := range rs {
		r.Version, r.UpdatedAt = 1, now.UTC().Truncate(time.Millisecond)
		change := aggregate.Change{Kind: "seeded"}.By("NRM", "secretariat", now)
		if _, err := s.Create(ctx, r, change, nil); err != nil && !errors.Is(err, aggregate.ErrExists) {
			return fmt.Errorf("seed the representation of %s: %w", r.Institution, err)
		}
	}
	return nil
}

// DevDefaults give each member a development representative and substitute at
// "<code>@representatives.nrm.test", so that `make run`'s invitations reach its mail catcher.
// Never for production: a real installation's secretariat sets the real contacts.
func DevDefaults(members []string) []Representation {
	out := make([]Representation, 0, len(members))
	for _, code := range members {
		local := strings.ToLower(code)
		out = append(out, Representation{
			Institution: code, Member: true, EffectiveFrom: "2023-01-01",
			Representative: Contact{Name: "Representative of " + code, Position: "Representative", Email: local + "@representatives.nrm.test"},
			Substitute:     &Contact{Name: "Substitute of " + code, Position: "Substitute", Email: local + ".substitute@representatives.nrm.test"},
		})
	}
	return out
}

// Proto is r as the API shows it.
func (r Representation) Proto() *secretariatv1.Representation {
	p := &secretariatv1.Representation{
		Institution: r.Institution, Member: r.Member, EffectiveFrom: r.EffectiveFrom, Version: r.Version,
		Representative: &secretariatv1.Contact{Name: r.Representative.Name, Position: r.Representative.Position, Email: r.Representative.Email},
	}
	if r.Substitute != nil {
		p.Substitute = &secretariatv1.Contact{Name: r.Substitute.Name, Position: r.Substitute.Position, Email: r.Substitute.Email}
	}
	return p
}

// FromProto is the API's representation as stored.
func FromProto(p *secretariatv1.Representation) Representation {
	r := Representation{EffectiveFrom: p.GetEffectiveFrom(),
		Representative: Contact{Name: p.GetRepresentative().GetName(), Position: p.GetRepresentative().GetPosition(), Email: p.GetRepresentative().GetEmail()}}
	if s := p.GetSubstitute(); s != nil {
		r.Substitute = &Contact{Name: s.GetName(), Position: s.GetPosition(), Email: s.GetEmail()}
	}
	return r
}
