// Package lists keeps ordered lists of items (referrals of a case, meetings of a month, an
// institution's inbox) in one MongoDB collection as claims, so that every read is an exact _id
// lookup and a page costs its own items however long the list has grown: FerretDB serves
// ranges and sorts by scanning, _id lookups by index.
//
// A list is the claims "<list>#<n>" (n = 1, 2, … in the order items were added), each naming an
// item, and a membership claim "<list>@<item id>" naming the item's place. The place is claimed
// before the membership; an Add retried after stopping in between claims a second place, which
// readers skip because the membership names the other. An item added to a list before it is
// itself written (so that no item escapes its lists) may never be written; readers skip it too.
package lists

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/nrm-albania/nrm/services/platform/mongodb"
)

// Lists are the lists kept in one collection.
type Lists struct{ coll *mongo.Collection }

// New returns the lists kept in coll.
func New(coll *mongo.Collection) *Lists { return &Lists{coll: coll} }

type place struct {
	ID     string `bson:"_id"`
	ItemID string `bson:"item_id"`
}

type membership struct {
	ID string `bson:"_id"`
	N  int64  `bson:"n"`
}

func placeID(list string, n int64) string { return list + "#" + strconv.FormatInt(n, 10) }
func memberID(list, item string) string   { return list + "@" + item }

// maxLen bounds a list's places: a few thousand items a year, for decades, is far below.
const maxLen = 1 << 40

// Add puts item at the end of list, unless it is there already.
func (l *Lists) Add(ctx context.Context, list, item string) error {
	var m membership
	if found, err := mongodb.FindByID(ctx, l.coll, memberID(list, item), &m); err != nil || found {
		return wrap(err, "list %s under %s", item, list)
	}
	last, err := l.Len(ctx, list)
	if err != nil {
		return err
	}
	for {
		n := last + 1
		err := mongodb.Claim(ctx, l.coll, place{ID: placeID(list, n), ItemID: item})
		if err == nil {
			err = mongodb.Claim(ctx, l.coll, membership{ID: memberID(list, item), N: n})
			if errors.Is(err, mongodb.ErrTaken) {
				return nil // a concurrent retry placed it too; readers follow the membership
			}
			return wrap(err, "list %s under %s", item, list)
		}
		if !errors.Is(err, mongodb.ErrTaken) {
			return wrap(err, "list %s under %s", item, list)
		}
		if last, err = l.Len(ctx, list); err != nil { // another item took the place
			return err
		}
	}
}

// Has reports whether item is in list.
func (l *Lists) Has(ctx context.Context, list, item string) (bool, error) {
	found, err := mongodb.FindByID(ctx, l.coll, memberID(list, item), &membership{})
	return found, wrap(err, "look for %s in %s", item, list)
}

// Len is the number of places of list, skipped ones included: a few lookups
// (mongodb.LastPresent), whatever the length.
func (l *Lists) Len(ctx context.Context, list string) (int64, error) {
	n, err := mongodb.LastPresent(ctx, 0, maxLen, func(ctx context.Context, n int64) (bool, error) {
		return mongodb.FindByID(ctx, l.coll, placeID(list, n), &struct{}{})
	})
	return n, wrap(err, "measure list %s", list)
}

// At returns the item at place n of list, and false for a place readers skip (an Add retried
// after its place was taken: the membership names another place).
func (l *Lists) At(ctx context.Context, list string, n int64) (string, bool, error) {
	var p place
	if found, err := mongodb.FindByID(ctx, l.coll, placeID(list, n), &p); err != nil || !found {
		return "", false, wrap(err, "read place %d of %s", n, list)
	}
	var m membership
	if found, err := mongodb.FindByID(ctx, l.coll, memberID(list, p.ItemID), &m); err != nil || !found || m.N != n {
		return "", false, wrap(err, "read place %d of %s", n, list)
	}
	return p.ItemID, true, nil
}

// Visit is called with each item of a page in turn; it loads the item and says whether the
// page takes it (false for an item never written, or one a filter leaves out).
type Visit func(ctx context.Context, item string) (bool, error)

// Page is a page of a list: the places visited and whether the list goes on past them.
type Page struct {
	// Next is the place to resume from: after it for Oldest, before it for Newest.
	Next int64
	More bool
}

// Oldest visits list's items from the one after place after, until visit has taken limit of
// them or scan places have been read (0: no bound) or the list ends.
func (l *Lists) Oldest(ctx context.Context, list string, after int64, limit, scan int, visit Visit) (Page, error) {
	last, err := l.Len(ctx, list)
	if err != nil {
		return Page{}, err
	}
	n, taken := after, 0
	for read := 0; n < last && taken < limit && (scan == 0 || read < scan); read++ {
		n++
		ok, err := l.visit(ctx, list, n, visit)
		if err != nil {
			return Page{}, err
		}
		if ok {
			taken++
		}
	}
	return Page{Next: n, More: n < last}, nil
}

// Newest visits list's items from the one before place before (0: the newest), newest first,
// until visit has taken limit of them or scan places have been read (0: no bound) or the list
// ends. A bound on the places read keeps a filtered page's time bounded: the page may then be
// short, even empty, and still have a next one.
func (l *Lists) Newest(ctx context.Context, list string, before int64, limit, scan int, visit Visit) (Page, error) {
	if before <= 0 {
		last, err := l.Len(ctx, list)
		if err != nil {
			return Page{}, err
		}
		before = last + 1
	}
	n, taken := before, 0
	for read := 0; n > 1 && taken < limit && (scan == 0 || read < scan); read++ {
		n--
		ok, err := l.visit(ctx, list, n, visit)
		if err != nil {
			return Page{}, err
		}
		if ok {
			taken++
		}
	}
	return Page{Next: n, More: n > 1}, nil
}

func (l *Lists) visit(ctx context.Context, list string, n int64, visit Visit) (bool, error) {
	item, ok, err := l.At(ctx, list, n)
	if err != nil || !ok {
		return false, err
	}
	return visit(ctx, item)
}

func wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}
