package lists_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/nrm-albania/nrm/services/platform/lists"
	"github.com/nrm-albania/nrm/services/platform/testenv"
)

func collect(out *[]string, keep func(string) bool) lists.Visit {
	return func(_ context.Context, item string) (bool, error) {
		if keep != nil && !keep(item) {
			return false, nil
		}
		*out = append(*out, item)
		return true, nil
	}
}

func TestListsPageBothWaysAndSkipNothingTwice(t *testing.T) {
	ctx := context.Background()
	l := lists.New(testenv.Database(t).Collection("lists"))
	for i := 1; i <= 7; i++ {
		if err := l.Add(ctx, "month/2026-12", fmt.Sprintf("m-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	// A retried Add is a no-op; another list is apart.
	if err := l.Add(ctx, "month/2026-12", "m-3"); err != nil {
		t.Fatal(err)
	}
	if err := l.Add(ctx, "month/2027-01", "m-8"); err != nil {
		t.Fatal(err)
	}
	if n, err := l.Len(ctx, "month/2026-12"); err != nil || n != 7 {
		t.Fatalf("Len = %d, %v; want 7", n, err)
	}
	if ok, err := l.Has(ctx, "month/2026-12", "m-8"); err != nil || ok {
		t.Fatalf("Has(m-8) = %v, %v; want false", ok, err)
	}

	var oldest []string
	page, err := l.Oldest(ctx, "month/2026-12", 0, 3, 0, collect(&oldest, nil))
	if err != nil || !page.More || page.Next != 3 {
		t.Fatalf("first oldest page = %+v, %v", page, err)
	}
	page, err = l.Oldest(ctx, "month/2026-12", page.Next, 10, 0, collect(&oldest, nil))
	if err != nil || page.More {
		t.Fatalf("second oldest page = %+v, %v", page, err)
	}
	if want := []string{"m-1", "m-2", "m-3", "m-4", "m-5", "m-6", "m-7"}; !slices.Equal(oldest, want) {
		t.Errorf("oldest first = %v, want %v", oldest, want)
	}

	// Newest first, filtered, with a bound on the places read: a short page that goes on.
	var odd []string
	keep := func(s string) bool { return s[len(s)-1]%2 == 1 }
	page, err = l.Newest(ctx, "month/2026-12", 0, 10, 3, collect(&odd, keep))
	if err != nil || !page.More || page.Next != 5 {
		t.Fatalf("bounded newest page = %+v, %v", page, err)
	}
	page, err = l.Newest(ctx, "month/2026-12", page.Next, 10, 0, collect(&odd, keep))
	if err != nil || page.More {
		t.Fatalf("last newest page = %+v, %v", page, err)
	}
	if want := []string{"m-7", "m-5", "m-3", "m-1"}; !slices.Equal(odd, want) {
		t.Errorf("odd newest first = %v, want %v", odd, want)
	}
}

func TestConcurrentAddsTakeDistinctPlaces(t *testing.T) {
	ctx := context.Background()
	l := lists.New(testenv.Database(t).Collection("lists"))
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Go(func() { errs <- l.Add(ctx, "inbox/KKSAT", fmt.Sprintf("n-%02d", i%10)) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Ten items, each added twice at once: each read once, whatever places the races took.
	var all []string
	if _, err := l.Oldest(ctx, "inbox/KKSAT", 0, 100, 0, collect(&all, nil)); err != nil {
		t.Fatal(err)
	}
	slices.Sort(all)
	if len(all) != 10 || len(slices.Compact(all)) != 10 {
		t.Errorf("items = %v, want n-00…n-09 once each", all)
	}
}
