package letters

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/nrm-albania/nrm/services/platform/aggregate"
	"github.com/nrm-albania/nrm/services/platform/mongodb"
	"github.com/nrm-albania/nrm/services/secretariat/internal/members"
)

// Collections besides the aggregate store's "letters" and "letter_revisions".
const (
	// FileCollection holds the attachments' content, _id "<registration>/<index>".
	FileCollection = "letter_files"
	// RegistrationCollection holds the registrations made with an idempotency key, _id the
	// registration: what a retry finds.
	RegistrationCollection = "letter_registrations"
	// UploadCollection holds the registrations whose files are stored and whose letter may not
	// be, _id the registration: what the sweep looks at (Sweep).
	UploadCollection = "letter_uploads"
)

// Store keeps the register: the letters (the aggregate store's Get and History), their files, and
// the keyed registrations.
type Store struct {
	*aggregate.Store[Letter, Change]
	files         *mongo.Collection
	registrations *mongo.Collection
	uploads       *mongo.Collection
	members       *mongo.Collection
}

// New returns the store of the register in db.
func New(db *mongo.Database) *Store {
	return &Store{
		Store:         aggregate.New[Letter, Change](db, aggregate.Spec{Name: "letter"}),
		files:         db.Collection(FileCollection),
		registrations: db.Collection(RegistrationCollection),
		uploads:       db.Collection(UploadCollection),
		members:       db.Collection(members.MembersCollection),
	}
}

// IsMember reports whether code is a member of the Authority, as the composition in this
// service's database says (package members keeps it).
func (s *Store) IsMember(ctx context.Context, code string) (bool, error) {
	return mongodb.FindByID(ctx, s.members, code, &members.Member{})
}

// Last is the number of the last letter of year, 0 when it has none: a few lookups of the
// commits by exact _id (mongodb.LastPresent), however many letters there are. Numbers are
// dense, because a number is taken only by the commit of its letter.
func (s *Store) Last(ctx context.Context, year int) (int64, error) {
	return mongodb.LastPresent(ctx, 0, MaxPerYear, func(ctx context.Context, n int64) (bool, error) {
		return mongodb.FindByID(ctx, s.RevisionCollection(), aggregate.RevisionID(Number(year, n), 1), &struct{}{})
	})
}

// Register gives l the next number of its year and commits it, with the event that names it.
// Registering is claiming: the insert of the letter's first revision, _id its number, either
// takes the number or finds it taken by a letter registered meanwhile, and then the next number
// is tried. So numbers are unique and, since only a committed letter holds one, without gaps.
func (s *Store) Register(ctx context.Context, l Letter, change Change, event func(Letter) aggregate.Event) (Letter, error) {
	year := l.Year()
	last, err := s.Last(ctx, year)
	if err != nil {
		return Letter{}, fmt.Errorf("find the last letter of %d: %w", year, err)
	}
	for n := last + 1; n <= MaxPerYear; n++ {
		l.ID, l.Version = Number(year, n), 1
		events, err := aggregate.Envelop(ctx, l.ID, 1, []aggregate.Event{event(l)}, l.RegisteredAt)
		if err != nil {
			return Letter{}, err
		}
		stored, err := s.Create(ctx, l, change, events)
		if errors.Is(err, aggregate.ErrExists) {
			continue
		}
		return stored, err
	}
	return Letter{}, fmt.Errorf("year %d has no protocol numbers left", year)
}

// File is the content of one attachment.
type File struct {
	ID     string `bson:"_id"`
	Data   []byte `bson:"data"`
	SHA256 string `bson:"sha256"`
}

func fileID(registration string, index int) string {
	return registration + "/" + strconv.Itoa(index)
}

// Hash is the SHA-256 of data in lower-case hex, as attachments are described.
func Hash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// File returns the content of attachment index of the letter, false when it is missing.
func (s *Store) File(ctx context.Context, l Letter, index int) ([]byte, bool, error) {
	var f File
	found, err := mongodb.FindByID(ctx, s.files, fileID(l.Registration, index), &f)
	if err != nil || !found {
		return nil, false, err
	}
	return f.Data, true, nil
}

// Registration is a registration made with an idempotency key: the request's fingerprint, and the
// letter once it is registered.
type Registration struct {
	ID          string `bson:"_id"`
	RequestHash []byte `bson:"request_hash"`
	Year        int    `bson:"year"`
	// After is the year's last number when the registration began: its letter is numbered after.
	After     int64     `bson:"after"`
	Number    string    `bson:"number,omitempty"`
	CreatedAt time.Time `bson:"created_at"`
}

// Begin records a keyed registration before anything else is written, so that of two attempts
// with one key exactly one registers. It returns the registration that was there already, if any:
// the attempt is then a retry.
func (s *Store) Begin(ctx context.Context, id string, hash []byte, year int, at time.Time) (*Registration, error) {
	after, err := s.Last(ctx, year)
	if err != nil {
		return nil, err
	}
	err = mongodb.Claim(ctx, s.registrations, Registration{ID: id, RequestHash: hash, Year: year, After: after, CreatedAt: at})
	if !errors.Is(err, mongodb.ErrTaken) {
		return nil, err
	}
	var r Registration
	found, err := mongodb.FindByID(ctx, s.registrations, id, &r)
	if err != nil {
		return nil, fmt.Errorf("read registration %s: %w", id, err)
	}
	if !found {
		return nil, fmt.Errorf("registration %s is claimed and cannot be read", id)
	}
	return &r, nil
}

// Finish records the letter a keyed registration made. Should it fail, Registered finds the letter
// all the same.
func (s *Store) Finish(ctx context.Context, id, number string) error {
	_, err := s.registrations.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{{Key: "number", Value: number}}}})
	return err
}

// Registered returns the letter a registration made, false if it has made none (yet). A
// registration that stopped before Finish is found among the letters of its year numbered after
// it began: at most those registered since.
func (s *Store) Registered(ctx context.Context, r *Registration) (Letter, bool, error) {
	if r.Number != "" {
		l, err := s.Get(ctx, r.Number)
		return l, err == nil, err
	}
	l, found, err := s.registeredAfter(ctx, r.ID, r.Year, r.After)
	if err != nil || !found {
		return l, found, err
	}
	return l, true, s.Finish(ctx, r.ID, l.ID)
}

// registeredAfter returns the letter of year registration made, false if none: it is among those
// numbered after after, the year's last number when the registration began, so at most the
// letters registered since are read.
func (s *Store) registeredAfter(ctx context.Context, registration string, year int, after int64) (Letter, bool, error) {
	last, err := s.Last(ctx, year)
	if err != nil {
		return Letter{}, false, err
	}
	for n := after + 1; n <= last; n++ {
		l, err := s.Get(ctx, Number(year, n))
		if err != nil {
			return Letter{}, false, err
		}
		if l.Registration == registration {
			return l, true, nil
		}
	}
	return Letter{}, false, nil
}

// ScanLimit bounds the letters one page of a filtered list reads, so that a filter matching few
// letters answers in bounded time: the page may then be short, even empty, and still have a next.
const ScanLimit = 500

// Newest returns up to limit letters that keep keeps, newest first, from the one before position
// before (0: the newest of the starting year), in year alone when year is not 0, else in
// year from and earlier years. It returns the position of the last letter read and whether the
// register goes on after it.
func (s *Store) Newest(ctx context.Context, from int, only bool, before int64, limit int, keep func(Letter) bool) ([]Letter, int64, bool, error) {
	c := cursor{s: s, only: only}
	year, n := from, int64(0)
	if before > 0 {
		year, n, _ = AtPosition(before)
	} else {
		last, err := s.Last(ctx, year)
		if err != nil {
			return nil, 0, false, err
		}
		n = last + 1
	}
	var out []Letter
	for scanned := 0; len(out) < limit && scanned < ScanLimit; scanned++ {
		var ok bool
		var err error
		if year, n, ok, err = c.prev(ctx, year, n); err != nil || !ok {
			return out, 0, false, err
		}
		l, err := s.Get(ctx, Number(year, n))
		if err != nil {
			return nil, 0, false, fmt.Errorf("list letter %s: %w", Number(year, n), err)
		}
		if keep(l) {
			out = append(out, l)
		}
	}
	_, _, more, err := c.prev(ctx, year, n)
	return out, Position(year, n), more, err
}

// cursor walks the register backwards, over the years with letters.
type cursor struct {
	s    *Store
	only bool // stay in the starting year
}

// prev is the letter before letter n of year: n-1, or the last of the nearest earlier year that
// has letters (a lookup or two per year passed over, back to FirstYear at most).
func (c cursor) prev(ctx context.Context, year int, n int64) (int, int64, bool, error) {
	if n > 1 {
		return year, n - 1, true, nil
	}
	for !c.only && year > FirstYear {
		year--
		last, err := c.s.Last(ctx, year)
		if err != nil || last > 0 {
			return year, last, err == nil, err
		}
	}
	return year, 0, false, nil
}
