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
)

// maxPrincipals bounds the limiter table. Each entry costs a few hundred bytes, so the table
// stays within some tens of megabytes however many distinct tokens or addresses a flood uses.
const maxPrincipals = 100_000

// principalKey identifies a principal in the limiter table: a SHA-256, so that the table holds
// neither bearer tokens (a heap dump must not hand out credentials) nor addresses, and every key
// has the same small size however long the header it came from.
type principalKey [sha256.Size]byte

// The kinds of principal, as the rejected-requests metric labels them.
const (
	principalToken   = "token"
	principalAddress = "address"
)

// principalOf keys a request for the rate limit. The gateway does not verify tokens (the
// services do), so the bearer token stands for the caller: a stolen or guessed token is still
// limited, and a caller rotating made-up tokens only gets 401s from the services. A request
// without a token is keyed by the client's address.
func principalOf(r *http.Request, trusted []netip.Prefix) (principalKey, string) {
	if auth := strings.Join(r.Header.Values("Authorization"), "\n"); strings.TrimSpace(auth) != "" {
		return sha256.Sum256([]byte("token\x00" + auth)), principalToken
	}
	return sha256.Sum256([]byte("address\x00" + addressKey(r, trusted))), principalAddress
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
	return path == "/openapi.json"
}

// rateLimiter holds one token bucket per principal in a table bounded two ways. An entry unused
// for as long as its bucket takes to fill up again is dropped on the way, which changes nothing
// for its principal: a new entry starts with a full bucket too. And when the table is full anyway,
// the least recently used entry goes, so a flood of distinct tokens cannot exhaust memory; the
// principal evicted then merely gets a full bucket early.
type rateLimiter struct {
	limit rate.Limit
	burst int
	idle  time.Duration // time for an empty bucket to fill up again
	max   int
	now   func() time.Time

	mu    sync.Mutex
	byKey map[principalKey]*list.Element // of *limiterEntry
	lru   list.List                      // most recently used at the front
}

type limiterEntry struct {
	key  principalKey
	lim  *rate.Limiter
	used time.Time
}

// newRateLimiter allows perSecond requests per principal with bursts of burst (both positive),
// keeping at most max principals.
func newRateLimiter(perSecond, burst, max int) *rateLimiter {
	return &rateLimiter{
		limit: rate.Limit(perSecond),
		burst: burst,
		idle:  time.Duration(math.Ceil(float64(burst) / float64(perSecond) * float64(time.Second))),
		max:   max,
		now:   time.Now,
		byKey: make(map[principalKey]*list.Element),
	}
}

// allow takes one request from key's budget. When none is left it reports how long until
// there is, without taking anything: a refused request must not delay the next one further.
func (l *rateLimiter) allow(key principalKey) (bool, time.Duration) {
	lim, now := l.limiterFor(key)
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
func (l *rateLimiter) limiterFor(key principalKey) (*rate.Limiter, time.Time) {
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
	e := &limiterEntry{key: key, lim: rate.NewLimiter(l.limit, l.burst), used: now}
	l.byKey[key] = l.lru.PushFront(e)
	return e.lim, now
}

// dropIdle removes, from the least recently used end, the entries whose bucket is full again.
// Each entry is removed once, so this costs O(1) per request on average.
func (l *rateLimiter) dropIdle(now time.Time) {
	for el := l.lru.Back(); el != nil && now.Sub(el.Value.(*limiterEntry).used) >= l.idle; el = l.lru.Back() {
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
