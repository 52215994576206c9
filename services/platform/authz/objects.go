package authz

import (
	"context"
	"sync"
)

// noted holds the object ids a handler adds to its call's audit record.
type noted struct {
	mu  sync.Mutex
	ids []string
}

type notedKey struct{}

// withNotes gives the call a place for the ids its handler notes; the guard makes it, the
// recorder reads it.
func withNotes(ctx context.Context) context.Context {
	return context.WithValue(ctx, notedKey{}, &noted{})
}

// NoteObjects adds ids to the audit record of the call: objects the call concerned that are
// neither in its request nor in its response (the cases a refusal names, say). Outside an
// audited call it does nothing.
func NoteObjects(ctx context.Context, ids ...string) {
	n, ok := ctx.Value(notedKey{}).(*noted)
	if !ok {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.ids = append(n.ids, ids...)
}

// notedObjects returns the ids the handler noted.
func notedObjects(ctx context.Context) []string {
	n, ok := ctx.Value(notedKey{}).(*noted)
	if !ok {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ids
}
