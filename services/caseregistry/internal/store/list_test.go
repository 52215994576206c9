package store

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/nrm-albania/nrm/services/caseregistry/internal/domain"
	"github.com/nrm-albania/nrm/services/platform/testenv"
)

// listedCase is the sample case with code at version, registered at a fixed instant (stored to
// the millisecond, as BSON keeps it) and with status.
func listedCase(code string, version int64, status string) domain.Case {
	c := sampleCase("id-"+code, version, "x")
	c.Code = code
	c.RegisteredAt = time.Date(2026, 2, 3, 4, 5, 6, 7e6, time.UTC)
	c.Profile.AgeAtIdentification = func(n int32) *int32 { return &n }(int32(10 + version))
	if status != "" {
		c.Trafficking.Status = status
	}
	return c
}

// blockVersion is the version of list block id as stored: the number of entries journaled.
func blockVersion(t *testing.T, s *Store, id string) int64 {
	t.Helper()
	d, err := s.list.Load(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return d.Version
}

// listAll returns the whole index unfiltered, in one page.
func listAll(t *testing.T, s *Store) []Listed {
	t.Helper()
	page, err := s.List(context.Background(), Filter{}, "", 100, 100)
	if err != nil {
		t.Fatal(err)
	}
	if page.After != "" {
		t.Fatalf("the whole index did not fit a page: after %q", page.After)
	}
	return page.Cases
}

func codesOf(ls []Listed) []string {
	out := make([]string, 0, len(ls))
	for _, l := range ls {
		out = append(out, l.Code)
	}
	return out
}

func countDocs(t *testing.T, s *Store, coll string) int64 {
	t.Helper()
	n, err := s.db.Collection(coll).CountDocuments(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestUpdateListKeepsTheNewestVersion(t *testing.T) {
	ctx := context.Background()
	s := New(testenv.Database(t))
	const code, block = "VT-2026-00042", "VT-2026-000"
	// only asserts the index holds exactly the case's entry at c's version.
	only := func(c domain.Case) {
		t.Helper()
		got := listAll(t, s)
		if len(got) != 1 {
			t.Fatalf("listed %v, want only %s", codesOf(got), c.Code)
		}
		got[0].RegisteredAt = got[0].RegisteredAt.UTC()
		if want := ListEntry(c); !reflect.DeepEqual(got[0], want) {
			t.Fatalf("listed\n%+v\nwant\n%+v", got[0], want)
		}
	}

	v3 := listedCase(code, 3, "TRAFFICKING_STATUS_VICTIM")
	if err := s.UpdateList(ctx, v3); err != nil {
		t.Fatal(err)
	}
	only(v3)
	if v := blockVersion(t, s, block); v != 1 {
		t.Fatalf("block version %d after the first update, want 1", v)
	}

	// The same version again, even with other content, writes nothing.
	again := listedCase(code, 3, "TRAFFICKING_STATUS_NOT_VICTIM")
	if err := s.UpdateList(ctx, again); err != nil {
		t.Fatal(err)
	}
	only(v3)
	if v := blockVersion(t, s, block); v != 1 {
		t.Errorf("block version %d after a repeated update, want 1", v)
	}

	// An older version, arriving late, leaves the newer entry.
	if err := s.UpdateList(ctx, listedCase(code, 2, "TRAFFICKING_STATUS_NOT_VICTIM")); err != nil {
		t.Fatal(err)
	}
	only(v3)
	if v := blockVersion(t, s, block); v != 1 {
		t.Errorf("block version %d after an older update, want 1", v)
	}

	// A newer version replaces it.
	v4 := listedCase(code, 4, "TRAFFICKING_STATUS_NOT_VICTIM")
	if err := s.UpdateList(ctx, v4); err != nil {
		t.Fatal(err)
	}
	only(v4)
	if v := blockVersion(t, s, block); v != 2 {
		t.Errorf("block version %d after a newer update, want 2", v)
	}
	if n := countDocs(t, s, ListJournalCollection); n != 2 {
		t.Errorf("%d journal entries, want 2", n)
	}
	if n := countDocs(t, s, ListYearCollection); n != 1 {
		t.Errorf("%d years recorded, want 1", n)
	}
	for _, tt := range []struct {
		c    domain.Case
		want bool
	}{{v3, true}, {v4, true}, {listedCase(code, 5, ""), false}, {listedCase("VT-2026-00043", 1, ""), false}} {
		if got, err := s.IsListed(ctx, tt.c); err != nil || got != tt.want {
			t.Errorf("IsListed(%s version %d) = %v, %v; want %v", tt.c.Code, tt.c.Version, got, err, tt.want)
		}
	}
}

func TestUpdateListRefusesWhatIsNotACaseCode(t *testing.T) {
	ctx := context.Background()
	s := New(testenv.Database(t))
	for _, code := range []string{"", "VT-2026-1", "VT-2026-0001", "VT-2026-000001", "XX-2026-00001", "VT-2026-00001 ", "vt-2026-00001"} {
		if err := s.UpdateList(ctx, listedCase(code, 1, "")); err == nil {
			t.Errorf("UpdateList(%q) accepted", code)
		}
		if _, err := s.IsListed(ctx, listedCase(code, 1, "")); err == nil {
			t.Errorf("IsListed(%q) accepted", code)
		}
	}
	for _, coll := range []string{ListCollection, ListJournalCollection, ListYearCollection} {
		if n := countDocs(t, s, coll); n != 0 {
			t.Errorf("%d documents in %s after refused updates", n, coll)
		}
	}
}

func TestConcurrentUpdatesOfOneBlockAreAllKept(t *testing.T) {
	ctx := context.Background()
	s := New(testenv.Database(t))
	const writers = 8
	var want []string
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		code := fmt.Sprintf("VT-2026-%05d", 1+i)
		want = append(want, code)
		wg.Go(func() { errs[i] = s.UpdateList(ctx, listedCase(code, 1, "")) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	if got := codesOf(listAll(t, s)); !slices.Equal(got, want) {
		t.Errorf("listed %v, want %v", got, want)
	}
	d, err := s.list.Settled(ctx, "VT-2026-000")
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(maps.Keys(d.State.Cases)); !slices.Equal(got, want) {
		t.Errorf("block holds %v, want %v", got, want)
	}
	if d.Version != writers {
		t.Errorf("block version %d, want %d", d.Version, writers)
	}
	if v := blockVersion(t, s, "VT-2026-000"); v != writers {
		t.Errorf("stored block version %d, want %d", v, writers)
	}
	if n := countDocs(t, s, ListYearCollection); n != 1 {
		t.Errorf("%d years recorded, want 1", n)
	}
}

// spread lists a case for each code (densely filling blocks 000..002 of 2025 and 000 of 2026,
// as codes are handed out in sequence), the victims among them with that status, and returns
// the codes in order. Codes are listed in reverse order, so that the index's order is not the
// order of the writes.
func spread(t *testing.T, s *Store, victims ...string) []string {
	t.Helper()
	codes := []string{
		"VT-2025-00001", "VT-2025-00002", "VT-2025-00003",
		"VT-2025-00100", "VT-2025-00101", "VT-2025-00102",
		"VT-2025-00200",
		"VT-2026-00001", "VT-2026-00002",
	}
	for _, code := range slices.Backward(codes) {
		status := ""
		if slices.Contains(victims, code) {
			status = "TRAFFICKING_STATUS_VICTIM"
		}
		if err := s.UpdateList(context.Background(), listedCase(code, 1, status)); err != nil {
			t.Fatal(err)
		}
	}
	return codes
}

// walk pages through the index from the start and returns the pages. It fails the test when a
// page does not move on, rather than looping for ever.
func walk(t *testing.T, s *Store, f Filter, limit, maxBlocks int) []ListPage {
	t.Helper()
	var pages []ListPage
	after := ""
	for range 50 {
		page, err := s.List(context.Background(), f, after, limit, maxBlocks)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, page)
		if page.After == "" {
			return pages
		}
		if page.After <= after {
			t.Fatalf("page %d after %q: next page after %q, no progress (cases %v)", len(pages), after, page.After, codesOf(page.Cases))
		}
		after = page.After
	}
	t.Fatalf("still paging after 50 pages")
	return nil
}

func TestListPagesThroughBlocksAndYears(t *testing.T) {
	s := New(testenv.Database(t))
	want := spread(t, s)
	if n := countDocs(t, s, ListYearCollection); n != 2 {
		t.Errorf("%d years recorded, want 2", n)
	}
	pages := walk(t, s, Filter{}, 2, 20)
	var got []string
	var afters []string
	for _, p := range pages {
		if len(p.Cases) > 2 {
			t.Errorf("page of %d cases, limit 2", len(p.Cases))
		}
		got = append(got, codesOf(p.Cases)...)
		afters = append(afters, p.After)
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged %v\nwant   %v", got, want)
	}
	// A full page ends after its last case, one that reaches a block's end after that block.
	wantAfters := []string{"VT-2025-00002", "VT-2025-00100", "VT-2025-00199", "VT-2026-00001", ""}
	if !slices.Equal(afters, wantAfters) {
		t.Errorf("pages end after %q, want %q", afters, wantAfters)
	}
	// The whole index in one page, and every page is the index's continuation.
	if all := codesOf(listAll(t, s)); !slices.Equal(all, want) {
		t.Errorf("one page: %v, want %v", all, want)
	}
	for i, after := range want {
		page, err := s.List(context.Background(), Filter{}, after, 100, 100)
		if err != nil {
			t.Fatal(err)
		}
		if got := codesOf(page.Cases); !slices.Equal(got, want[i+1:]) || page.After != "" {
			t.Errorf("after %s: %v, %q; want %v, \"\"", after, got, page.After, want[i+1:])
		}
	}
}

func TestFilteredListReadsAtMostMaxBlocks(t *testing.T) {
	s := New(testenv.Database(t))
	victims := []string{"VT-2025-00002", "VT-2025-00200", "VT-2026-00002"}
	spread(t, s, victims...)
	f := Filter{Status: "TRAFFICKING_STATUS_VICTIM"}

	// One block per page: the first page holds the first block's match and ends after that
	// block, whatever the limit.
	first, err := s.List(context.Background(), f, "", 100, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := codesOf(first.Cases); !slices.Equal(got, victims[:1]) || first.After != "VT-2025-00099" {
		t.Errorf("first page of one block: %v, after %q; want %v, after VT-2025-00099", got, first.After, victims[:1])
	}
	// Enough blocks for the whole index: one page, and no next one.
	whole, err := s.List(context.Background(), f, "", 100, 20)
	if err != nil {
		t.Fatal(err)
	}
	if got := codesOf(whole.Cases); !slices.Equal(got, victims) || whole.After != "" {
		t.Errorf("one page: %v, after %q; want %v, after \"\"", got, whole.After, victims)
	}

	for _, maxBlocks := range []int{1, 2, 3, 20} {
		t.Run(fmt.Sprint(maxBlocks, " blocks a page"), func(t *testing.T) {
			pages := walk(t, s, f, 100, maxBlocks)
			var got []string
			for i, p := range pages {
				got = append(got, codesOf(p.Cases)...)
				// The limit is never reached: every page but the last ends after a block.
				if i < len(pages)-1 && !strings.HasSuffix(p.After, "99") {
					t.Errorf("page %d ends after %q, not after a block", i, p.After)
				}
			}
			if !slices.Equal(got, victims) {
				t.Errorf("paged %v, want %v", got, victims)
			}
			if last := pages[len(pages)-1]; last.After != "" {
				t.Errorf("last page after %q", last.After)
			}
		})
	}

	// A small limit and few blocks together.
	var got []string
	for _, p := range walk(t, s, f, 1, 3) {
		if len(p.Cases) > 1 {
			t.Errorf("page of %d cases, limit 1", len(p.Cases))
		}
		got = append(got, codesOf(p.Cases)...)
	}
	if !slices.Equal(got, victims) {
		t.Errorf("paged one by one: %v, want %v", got, victims)
	}
}

func TestListRefusesAnAfterThatIsNotACaseCode(t *testing.T) {
	s := New(testenv.Database(t))
	spread(t, s)
	for _, after := range []string{"not-a-code", "VT-2026-1", "VT-2026-00001x", "VT", "VT-2026-001"} {
		page, err := s.List(context.Background(), Filter{}, after, 10, 20)
		if err == nil {
			t.Errorf("List after %q: %v, no error", after, codesOf(page.Cases))
		}
		if len(page.Cases) != 0 || page.After != "" {
			t.Errorf("List after %q returned %+v with its error", after, page)
		}
	}
}

func TestListOfAnEmptyStore(t *testing.T) {
	s := New(testenv.Database(t))
	for _, after := range []string{"", "VT-2026-00001", "VT-2026-99999"} {
		page, err := s.List(context.Background(), Filter{}, after, 10, 20)
		if err != nil || len(page.Cases) != 0 || page.After != "" {
			t.Errorf("List after %q of an empty store: %+v, %v", after, page, err)
		}
	}
	// A filter changes nothing, nor does a year recorded before its first block was written.
	if _, err := s.listYears.InsertOne(context.Background(), listYear{Year: "2026"}); err != nil {
		t.Fatal(err)
	}
	page, err := s.List(context.Background(), Filter{Status: "TRAFFICKING_STATUS_VICTIM"}, "", 10, 20)
	if err != nil || len(page.Cases) != 0 || page.After != "" {
		t.Errorf("List of a year without blocks: %+v, %v", page, err)
	}
}

// A block none of whose cases is listed (a run of registrations that claimed their codes and
// failed) does not hide the cases after it: the year goes on while the next block's first code
// was claimed, and ends where it was not.
func TestListSkipsABlockWithNoCaseListed(t *testing.T) {
	ctx := context.Background()
	s := New(testenv.Database(t))
	for _, code := range []string{"VT-2025-00001", "VT-2025-00300", "VT-2026-00001"} {
		if err := s.UpdateList(ctx, listedCase(code, 1, "")); err != nil {
			t.Fatal(err)
		}
	}
	// Blocks 001 and 002 of 2025 are empty; 002's first code was handed out, 003's too.
	for _, code := range []string{"VT-2025-00200", "VT-2025-00300"} {
		if _, err := s.db.Collection(CodeCollection).InsertOne(ctx, codeClaim{Code: code, CaseID: "claimed-" + code}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, p := range walk(t, s, Filter{}, 100, 1) {
		got = append(got, codesOf(p.Cases)...)
	}
	// Block 001's next block, 002, has its first code claimed: on to 003. Without a claim of
	// 00200 the year would have ended after block 001, as it ends after 003 (00400 unclaimed).
	if want := []string{"VT-2025-00001", "VT-2025-00300", "VT-2026-00001"}; !slices.Equal(got, want) {
		t.Errorf("listed %v, want %v", got, want)
	}

	if _, err := s.db.Collection(CodeCollection).DeleteOne(ctx, bson.D{{Key: "_id", Value: "VT-2025-00200"}}); err != nil {
		t.Fatal(err)
	}
	page, err := s.List(ctx, Filter{}, "", 100, 20)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"VT-2025-00001", "VT-2026-00001"}; !slices.Equal(codesOf(page.Cases), want) || page.After != "" {
		t.Errorf("without the claim of VT-2025-00200: %v after %q, want %v after \"\"", codesOf(page.Cases), page.After, want)
	}
}
