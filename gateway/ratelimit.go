package gateway

import (
	"container/list"
	"crypto/sha256"
	"math"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/nrm-albania/nrm/services/platform/auth"
)

// maxPrincipals bounds the limiter table. Each entry costs a few hundred bytes, so the table
// stays within some tens of megabytes however many distinct principals or addresses a flood uses.
const maxPrincipals = 100_000

// principalKey identifies a principal in the limiter table: a SHA-256, so that the table holds
// neither subjects nor addresses (a heap dump must not list who called), and every key has the
// same small size however long the names it came from.
type principalKey [sha256.Size]byte

// The kinds of principal, as the rejected-requests metric labels them.
const (
	principalToken   = "token"
	principalAddress = "address"
)

// principalOf keys a request for the rate limit: by the principal its verified token names
// (p, nil when the request has no valid token), or else by the client's address. Keying by the
// verified institution and subject, not by the token's text, means that a caller gets no fresh
// budget by making up tokens (those are refused and count against the address) nor by asking
// for a new token.
func principalOf(r *http.Request, p *auth.Principal, trusted []netip.Prefix) (principalKey, string) {
	if p != nil {
		return sha256.Sum256([]byte("principal\x00" + p.Institution + "\x00" + p.Subject)), principalToken
	}
	return sha256.Sum256([]byte("address\x00" + addressKey(r, trusted))), principalAddress
}

// rateOf is a limit: requests per second, and how many may come at once.
type rateOf struct{ perSecond, burst int }

// limits says which limit applies to a principal.
type limits struct {
	byDefault    rateOf
	institutions map[string]rateOf // by institution code
	subjects     map[string]rateOf // by subject; wins over the institution's
}

// of returns p's limit; a request without a verified principal gets the default.
func (l limits) of(p *auth.Principal) rateOf {
	if p == nil {
		return l.byDefault
	}
	if r, ok := l.subjects[p.Subject]; ok {
		return r
	}
	if r, ok := l.institutions[p.Institution]; ok {
		return r
	}
	return l.byDefault
}

// addressKey is the client's address as the limit sees it. An IPv6 client is keyed by its /64:
// one subscriber usually holds a whole /64 and could otherwise take a fresh address, and so a
// fresh budget, for every request.
func addressKey(r *http.Request, trusted []netip.Prefix) string {
	a, ok := clientAddr(r, trusted)
	switch {
	case !ok:
		return r.RemoteAddr // not an IP connection; key on whatever the server reports
	case a.Is6():
		return netip.PrefixFrom(a, 64).Masked().String()
	default:
		return a.String()
	}
}

// clientAddr is the address of the client. It is the connection's peer, unless that peer is a
// trusted proxy: then X-Forwarded-For is read from the right, each trusted proxy vouching for
// the hop before it, and the first address that is not a trusted proxy is the client. Entries
// left of that were written by the client itself and are ignored, so a client cannot choose its
// own key by sending X-Forwarded-For.
func clientAddr(r *http.Request, trusted []netip.Prefix) (netip.Addr, bool) {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, false
	}
	addr := peer.Addr().Unmap().WithZone("")
	if !isTrusted(addr, trusted) {
		return addr, true
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		hop, ok := parseHop(hops[i])
		if !ok {
			// A trusted proxy passed on something that is not an address. Keying on that proxy
			// lumps its clients together, which errs on the side of limiting.
			return addr, true
		}
		addr = hop
		if !isTrusted(addr, trusted) {
			return addr, true
		}
	}
	// Every hop is a trusted proxy: the request started inside, at the leftmost.
	return addr, true
}

// parseHop reads one X-Forwarded-For entry. Some proxies add the port ("192.0.2.1:4711",
// "[2001:db8::1]:4711"); RFC 7239 style brackets without a port are accepted too.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil {
		ap, perr := netip.ParseAddrPort(s)
		if perr != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	return a.Unmap().WithZone(""), true
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// exemptFromRateLimit lists the paths the limit does not apply to: the OpenAPI document is
// public, static and served from memory, and client generators fetch it freely. Everything else
// is limited, unknown paths included, so that a flood of 404s costs the flooder its budget too.
func exemptFromRateLimit(path string) bool {
	return path == openAPIPath
}

// rateLimiter holds one token bucket per principal in a table bounded two ways. An entry unused
// for as long as its bucket takes to fill up again is dropped on the way, which changes nothing
// for its principal: a new entry starts with a full bucket too. And when the table is full anyway,
// the least recently used entry goes, so a flood of distinct tokens cannot exhaust memory; the
// principal evicted then merely gets a full bucket early.
type rateLimiter struct {
	max int
	now func() time.Time

	mu    sync.Mutex
	byKey map[principalKey]*list.Element // of *limiterEntry
	lru   list.List                      // most recently used at the front
}

type limiterEntry struct {
	key  principalKey
	lim  *rate.Limiter
	used time.Time
	idle time.Duration // time for its empty bucket to fill up again
}

// newRateLimiter keeps at most max principals, on the clock now (time.Now when nil).
func newRateLimiter(max int, now func() time.Time) *rateLimiter {
	if now == nil {
		now = time.Now
	}
	return &rateLimiter{max: max, now: now, byKey: make(map[principalKey]*list.Element)}
}

// allow takes one request from key's budget, a bucket of limit r (both numbers positive) when
// key has none yet. When none is left it reports how long until there is, without taking
// anything: a refused request must not delay the next one further.
func (l *rateLimiter) allow(key principalKey, r rateOf) (bool, time.Duration) {
	lim, now := l.limiterFor(key, r)
	res := lim.ReserveN(now, 1)
	if !res.OK() { // only with a burst below 1, which the settings refuse
		return false, time.Second
	}
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// limiterFor returns key's bucket, creating it, and the time to take from it. The table's lock
// is held only for the lookup; the bucket has its own.
func (l *rateLimiter) limiterFor(key principalKey, r rateOf) (*rate.Limiter, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.dropIdle(now)
	if el, ok := l.byKey[key]; ok {
		e := el.Value.(*limiterEntry)
		e.used = now
		l.lru.MoveToFront(el)
		return e.lim, now
	}
	for l.lru.Len() >= l.max {
		l.remove(l.lru.Back())
	}
	e := &limiterEntry{
		key:  key,
		lim:  rate.NewLimiter(rate.Limit(r.perSecond), r.burst),
		used: now,
		idle: time.Duration(math.Ceil(float64(r.burst) / float64(r.perSecond) * float64(time.Second))),
	}
	l.byKey[key] = l.lru.PushFront(e)
	return e.lim, now
}

// dropIdle removes, from the least recently used end, the entries whose bucket is full again.
// Each entry is removed once, so this costs O(1) per request on average. Buckets of different
// limits fill up at different speeds: the sweep stops at the first that is not full yet, which
// may keep a full one behind it a little longer but never drops one too early.
func (l *rateLimiter) dropIdle(now time.Time) {
	for el := l.lru.Back(); el != nil && now.Sub(el.Value.(*limiterEntry).used) >= el.Value.(*limiterEntry).idle; el = l.lru.Back() {
		l.remove(el)
	}
}

func (l *rateLimiter) remove(el *list.Element) {
	delete(l.byKey, el.Value.(*limiterEntry).key)
	l.lru.Remove(el)
}

// size is the number of principals held, for the metrics.
func (l *rateLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// retryAfter is the Retry-After value for a wait: whole seconds, rounded up, at least 1, as
// RFC 9110 has no fractions and 0 would invite an immediate retry that is refused again.
func retryAfter(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
