package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/nrm-albania/nrm/services/caseregistry/internal/domain"
	"github.com/nrm-albania/nrm/services/platform/journal"
	"github.com/nrm-albania/nrm/services/platform/mongodb"
)

// The list index (docs/decisions.md 18). Lists cannot query the case documents: FerretDB pushes
// neither sorts nor filters on nested fields down to its backend, so a filtered page would read
// every case. Instead each block of 100 consecutive codes, _id "VT-2026-001" for
// VT-2026-00100..VT-2026-00199, is one document holding the fields lists filter on for each of
// its cases. A page reads blocks in code order, by _id only, whatever the number of cases. The
// blocks are journaled documents (many writers change the same block). The years with cases are
// recorded apart, so that a list knows where to start.
const (
	ListCollection        = "case_list"
	ListJournalCollection = "case_list_journal"
	ListYearCollection    = "case_list_years"
)

// casesPerBlock is how many consecutive codes a block holds: a code without its last two digits
// names its block.
const casesPerBlock = 100

// blocksPerYear is how many blocks a year's five-digit sequence fills.
const blocksPerYear = (domain.MaxCodeSequence + 1) / casesPerBlock

// Listed is what the list index keeps of one case: what lists filter on, and the version it
// reflects.
type Listed struct {
	ID                     string    `bson:"id"`
	Code                   string    `bson:"code"`
	Version                int64     `bson:"version"`
	Status                 string    `bson:"status"`
	State                  string    `bson:"state"`
	ExploitationTypes      []string  `bson:"exploitation_types,omitempty"`
	IdentifyingInstitution string    `bson:"identifying_institution"`
	Owner                  string    `bson:"owner"`
	Age                    *int32    `bson:"age,omitempty"` // at identification; nil: unknown
	RegisteredAt           time.Time `bson:"registered_at"`
	IdentifiedOn           string    `bson:"identified_on"`
}

// ListEntry is c as the list index keeps it.
func ListEntry(c domain.Case) Listed {
	return Listed{
		ID: c.ID, Code: c.Code, Version: c.Version,
		Status: c.Trafficking.Status, State: c.State, ExploitationTypes: c.Trafficking.ExploitationTypes,
		IdentifyingInstitution: c.Identification.IdentifyingInstitution, Owner: c.OwnerInstitution,
		Age: c.Profile.AgeAtIdentification, RegisteredAt: c.RegisteredAt.UTC(), IdentifiedOn: c.Identification.Date,
	}
}

// block is the state of one list block: its cases by code.
type block struct {
	Cases packed `bson:"cases"`
}

// withCase returns b with l in place of its case's entry; b is left unchanged.
func withCase(b block, l Listed) block {
	next := block{Cases: maps.Clone(b.Cases)}
	if next.Cases == nil {
		next.Cases = packed{}
	}
	next.Cases[l.Code] = l
	return next
}

// packed stores a block's entries as one binary value holding their BSON. FerretDB converts a
// document between its storage and BSON field by field: a block of 100 entries spelled out took
// 8 ms to read on SQLite, which packed it reads in 1 ms.
type packed map[string]Listed

// MarshalBSONValue implements bson.ValueMarshaler.
func (p packed) MarshalBSONValue() (byte, []byte, error) {
	raw, err := bson.Marshal(map[string]Listed(p))
	if err != nil {
		return 0, nil, fmt.Errorf("pack list entries: %w", err)
	}
	t, data, err := bson.MarshalValue(bson.Binary{Data: raw})
	return byte(t), data, err
}

// UnmarshalBSONValue implements bson.ValueUnmarshaler.
func (p *packed) UnmarshalBSONValue(typ byte, data []byte) error {
	var bin bson.Binary
	if err := (bson.RawValue{Type: bson.Type(typ), Value: data}).Unmarshal(&bin); err != nil {
		return fmt.Errorf("unpack list entries: %w", err)
	}
	m := map[string]Listed{}
	if err := bson.Unmarshal(bin.Data, &m); err != nil {
		return fmt.Errorf("unpack list entries: %w", err)
	}
	*p = m
	return nil
}

// blockID is the block of code: the code without its last two digits.
func blockID(code string) string { return code[:len(code)-2] }

// yearBlockID is the n-th block of year.
func yearBlockID(year string, n int) string { return fmt.Sprintf("VT-%s-%03d", year, n) }

// yearCode is the seq-th code of year.
func yearCode(year string, seq int) string { return fmt.Sprintf("VT-%s-%05d", year, seq) }

// codeYear is the year of a code, "2026" of "VT-2026-00042".
func codeYear(code string) string { return code[3:7] }

// codeBlock is the position of code's block within its year.
func codeBlock(code string) int {
	n, _ := strconv.Atoi(code[8:11])
	return n
}

// listYear is one document of ListYearCollection: a year with cases.
type listYear struct {
	Year string `bson:"_id"`
}

// UpdateList brings c's entry in the list index up to c's version; an entry at that version or
// a newer one is left alone, so calls may come late, twice or out of order. Writers of the same
// block take turns. A case without a valid code (never the case for a committed one) is refused.
func (s *Store) UpdateList(ctx context.Context, c domain.Case) error {
	return s.updateList(ctx, c, s.list.Append)
}

// TryUpdateList is UpdateList that gives up, with an error wrapping journal.ErrBusy, if another
// writer of the block commits first, rather than wait its turn: registrations are numbered in
// sequence, so concurrent ones share a block.
func (s *Store) TryUpdateList(ctx context.Context, c domain.Case) error {
	return s.updateList(ctx, c, s.list.TryAppend)
}

func (s *Store) updateList(ctx context.Context, c domain.Case, appendTo func(context.Context, string, func(journal.Doc[block]) (Listed, bool)) (bool, error)) error {
	if !domain.IsCode(c.Code) {
		return fmt.Errorf("list case %s: %q is not a case code", c.ID, c.Code)
	}
	// The year is recorded before any of its blocks exists, so no list can miss a block for not
	// knowing its year.
	if err := s.recordYear(ctx, codeYear(c.Code)); err != nil {
		return err
	}
	l := ListEntry(c)
	_, err := appendTo(ctx, blockID(c.Code), func(d journal.Doc[block]) (Listed, bool) {
		old, ok := d.State.Cases[l.Code]
		return l, !ok || old.Version < l.Version
	})
	if err != nil {
		return fmt.Errorf("list case %s version %d: %w", c.Code, c.Version, err)
	}
	return nil
}

// IsListed reports whether the list index holds c at c's version or a newer one: one read.
func (s *Store) IsListed(ctx context.Context, c domain.Case) (bool, error) {
	if !domain.IsCode(c.Code) {
		return false, fmt.Errorf("list case %s: %q is not a case code", c.ID, c.Code)
	}
	d, err := s.list.Load(ctx, blockID(c.Code))
	if err != nil {
		return false, fmt.Errorf("list case %s: %w", c.Code, err)
	}
	l, ok := d.State.Cases[c.Code]
	return ok && l.Version >= c.Version, nil
}

// recordYear records that year has cases, once per process.
func (s *Store) recordYear(ctx context.Context, year string) error {
	if _, ok := s.yearsRecorded.Load(year); ok {
		return nil
	}
	_, err := s.listYears.InsertOne(ctx, listYear{Year: year})
	if err != nil && !mongodb.IsDuplicateKey(err) {
		return fmt.Errorf("record the cases' year %s: %w", year, err)
	}
	s.yearsRecorded.Store(year, true)
	return nil
}

// ListPage is one page of the list index.
type ListPage struct {
	// Cases are the entries that matched, in code order.
	Cases []Listed
	// After is where the next page starts (the codes after it), "" when the index has no more.
	After string
}

// List returns up to limit entries matching f, in code order, from the codes after after (""
// from the start). It reads at most maxBlocks blocks, so a page costs the same however many
// cases are stored and however few match; a page may therefore hold fewer than limit entries,
// none even, and still have a next page.
func (s *Store) List(ctx context.Context, f Filter, after string, limit, maxBlocks int) (ListPage, error) {
	if after != "" && !domain.IsCode(after) {
		return ListPage{}, fmt.Errorf("list cases: %q is not a case code", after)
	}
	years, err := s.yearsListed(ctx)
	if err != nil {
		return ListPage{}, err
	}
	var page ListPage
	read := 0
	for _, year := range years {
		first := 0
		if after != "" {
			if year < codeYear(after) {
				continue
			}
			if year == codeYear(after) {
				first = codeBlock(after)
				if after == blockID(after)+"99" {
					first++ // a page that ended with a block: nothing of it is left
				}
			}
		}
		for n := first; n < blocksPerYear; n++ {
			if read == maxBlocks {
				return page, nil // page.After: the last code of the last block read
			}
			id := yearBlockID(year, n)
			d, err := s.list.Load(ctx, id)
			if err != nil {
				return ListPage{}, fmt.Errorf("list cases: %w", err)
			}
			read++
			if d.Version == 0 {
				// No case of this block is listed. Codes are claimed in sequence, so the year
				// goes on only if the next block's first code was claimed: a run of failed
				// registrations must not hide the cases after it.
				more, err := s.claimed(ctx, year, n+1)
				if err != nil {
					return ListPage{}, err
				}
				if !more {
					page.After = yearCode(year, domain.MaxCodeSequence) // the year is done
					break
				}
				page.After = id + "99"
				continue
			}
			for _, code := range slices.Sorted(maps.Keys(d.State.Cases)) {
				if code <= after || !f.Matches(d.State.Cases[code]) {
					continue
				}
				if len(page.Cases) == limit {
					return page, nil // page.After: the last entry returned
				}
				page.Cases = append(page.Cases, d.State.Cases[code])
				page.After = code
			}
			page.After = id + "99"
		}
	}
	page.After = ""
	return page, nil
}

// claimed reports whether the first code of the n-th block of year was handed out.
func (s *Store) claimed(ctx context.Context, year string, n int) (bool, error) {
	if n == blocksPerYear {
		return false, nil
	}
	_, err := s.Codes.CaseID(ctx, yearCode(year, n*casesPerBlock))
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// yearsListed returns the years with cases, in order. There is one document per year: reading
// them all is a scan, but of a few dozen documents at most.
func (s *Store) yearsListed(ctx context.Context) ([]string, error) {
	cur, err := s.listYears.Find(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("list cases: read years: %w", err)
	}
	var years []listYear
	if err := cur.All(ctx, &years); err != nil {
		return nil, fmt.Errorf("list cases: read years: %w", err)
	}
	out := make([]string, 0, len(years))
	for _, y := range years {
		out = append(out, y.Year)
	}
	slices.Sort(out)
	return out, nil
}
