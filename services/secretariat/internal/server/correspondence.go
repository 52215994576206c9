package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/api/httpbody"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	secretariatv1 "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
	"github.com/nrm-albania/nrm/services/platform/aggregate"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/authz"
	"github.com/nrm-albania/nrm/services/platform/pagination"
	"github.com/nrm-albania/nrm/services/secretariat/internal/letters"
)

// Limits of a letter besides its attachments (letters.Policy).
const (
	maxLetterSubject     = 500
	maxLetterInstitution = 200
	maxAttachmentName    = 200
	maxLetterMeetings    = 20
	maxLetterCases       = 50
)

var (
	// meetingIDPattern is an opaque id: meetings are kept elsewhere in the service, and a letter
	// names them without depending on how they are numbered.
	meetingIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`)
	// caseCodePattern is the case registry's code (VT-YYYY-NNNNN, the sequence growing past five
	// digits in a year with more cases). Only its shape is checked: the registry is another
	// service, and the secretariat may refer to a case it may not read.
	caseCodePattern = regexp.MustCompile(`^VT-[0-9]{4}-[0-9]{5,}$`)
)

// letterNamespace scopes the registrations derived from idempotency keys.
var letterNamespace = uuid.MustParse("6f1d2c9a-4b3e-5a71-8c0d-9e2f4a6b1c37")

// Correspondence serves the correspondence register.
type Correspondence struct {
	secretariatv1.UnimplementedCorrespondenceServiceServer
	store  *letters.Store
	policy letters.Policy
	// relay is woken after every registration, to publish its event at once.
	relay interface{ Notify() }
	log   *slog.Logger
	now   func() time.Time
}

// NewCorrespondence returns the register's service over st, accepting attachments by policy.
func NewCorrespondence(st *letters.Store, policy letters.Policy, relay interface{ Notify() }, log *slog.Logger) *Correspondence {
	return &Correspondence{store: st, policy: policy, relay: relay, log: log, now: time.Now}
}

// RegisterLetter registers a letter under the next protocol number of its year (see the proto).
func (c *Correspondence) RegisterLetter(ctx context.Context, req *secretariatv1.RegisterLetterRequest) (*secretariatv1.RegisterLetterResponse, error) {
	now := c.now().UTC().Truncate(time.Millisecond)
	l, files, err := c.letterFrom(req, now)
	if err != nil {
		return nil, err
	}
	if l.MemberCode != "" {
		member, err := c.store.IsMember(ctx, l.MemberCode)
		if err != nil {
			return nil, err
		}
		if !member {
			return nil, apierr.InvalidField("counterpart.member_code", "%s is not a member of the Authority (GET /v1/members); name an outside institution in other_institution", l.MemberCode)
		}
	}
	key, err := aggregate.IdempotencyKey(ctx)
	if err != nil {
		return nil, err
	}
	who := caller(ctx)
	l.Registration = uuid.Must(uuid.NewV7()).String()
	if key != "" {
		l.Registration = aggregate.KeyedID(letterNamespace, who.Institution, key)
		stored, done, err := c.retried(ctx, l, req)
		if err != nil {
			return nil, err
		}
		if done {
			return &secretariatv1.RegisterLetterResponse{Letter: respondLetter(ctx, stored)}, nil
		}
	}
	if err := c.store.PutFiles(ctx, l.Registration, l.Year(), files, now); err != nil {
		return nil, err
	}
	l.RegisteredAt, l.RegisteredBy, l.UpdatedAt = now, who.Institution, now
	stored, err := c.store.Register(ctx, l, letters.Change{Kind: "registered"}.By(who.Institution, who.Subject, now), registered)
	if err != nil {
		return nil, err
	}
	if key != "" {
		if err := c.store.Finish(ctx, l.Registration, stored.ID); err != nil {
			c.log.WarnContext(ctx, "a keyed registration's letter was not recorded; a retry finds it among the year's letters",
				"protocol_number", stored.ID, "error", err)
		}
	}
	if len(files) > 0 {
		if err := c.store.Settle(ctx, l.Registration); err != nil {
			c.log.WarnContext(ctx, "a letter's files were not marked as its own; the sweep finds the letter and does it",
				"protocol_number", stored.ID, "error", err)
		}
	}
	c.relay.Notify()
	c.log.InfoContext(ctx, "letter registered", "protocol_number", stored.ID, "direction", stored.Direction,
		"attachments", len(stored.Attachments))
	return &secretariatv1.RegisterLetterResponse{Letter: respondLetter(ctx, stored)}, nil
}

// retried settles a keyed registration before anything of it is written: done with the letter
// when an earlier attempt with the key registered it, an error when the key was used for another
// request or its first attempt has not finished, neither for the first attempt.
func (c *Correspondence) retried(ctx context.Context, l letters.Letter, req *secretariatv1.RegisterLetterRequest) (letters.Letter, bool, error) {
	// A plain hash: the request holds nothing the letter's own document does not.
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(req)
	if err != nil {
		return l, false, err
	}
	hash := sha256.Sum256(b)
	earlier, err := c.store.Begin(ctx, l.Registration, hash[:], l.Year(), l.RegisteredAt)
	if err != nil || earlier == nil {
		return l, false, err
	}
	if !bytes.Equal(earlier.RequestHash, hash[:]) {
		return l, false, apierr.FailedPrecondition("IDEMPOTENCY_KEY_REUSED",
			"the idempotency key was already used for a different letter; use a new key", nil)
	}
	stored, found, err := c.store.Registered(ctx, earlier)
	if err != nil || found {
		return stored, found, err
	}
	// Registering now could give the letter a second number should the first attempt still
	// commit; the caller retries until it has, or it is clearly lost.
	return l, false, apierr.Aborted("REGISTRATION_IN_PROGRESS",
		"a registration with this idempotency key has not finished; retry shortly (if it keeps failing, the first attempt was lost: register with a new key)", nil)
}

// letterFrom validates a registration, every problem named by its field, and returns the letter
// it describes (without number) and its attachments' content. Nothing is written before it
// passes.
func (c *Correspondence) letterFrom(req *secretariatv1.RegisterLetterRequest, now time.Time) (letters.Letter, [][]byte, error) {
	var v apierr.Violations
	l := letters.Letter{
		Direction: req.GetDirection().String(), Date: req.GetDate(), Subject: strings.TrimSpace(req.GetSubject()),
		MemberCode:       req.GetCounterpart().GetMemberCode(),
		OtherInstitution: strings.TrimSpace(req.GetCounterpart().GetOtherInstitution()),
		MeetingIDs:       req.GetMeetingIds(), CaseCodes: req.GetCaseCodes(),
	}
	if l.Direction != letters.In && l.Direction != letters.Out {
		v.Add("direction", "is required: LETTER_DIRECTION_IN or LETTER_DIRECTION_OUT")
	}
	today := now.In(letters.Tirana).Format(time.DateOnly)
	if l.Date == "" {
		l.Date = today
	} else if d, err := time.Parse(time.DateOnly, l.Date); err != nil || d.Year() < letters.FirstYear || l.Date > today {
		v.Add("date", "must be a date YYYY-MM-DD from %d-01-01 to today (%s in Tirana)", letters.FirstYear, today)
	}
	switch {
	case (l.MemberCode == "") == (l.OtherInstitution == ""):
		v.Add("counterpart", "name either a member (member_code) or an outside institution (other_institution)")
	case l.MemberCode != "":
		if err := auth.CheckInstitution(l.MemberCode); err != nil {
			v.Add("counterpart.member_code", "must be a member's institution code")
		}
	default:
		letterText(&v, "counterpart.other_institution", l.OtherInstitution, maxLetterInstitution, false)
	}
	if l.Subject == "" {
		v.Add("subject", "is required: 1 to %d characters", maxLetterSubject)
	} else {
		letterText(&v, "subject", l.Subject, maxLetterSubject, true)
	}
	letterRefs(&v, "meeting_ids", l.MeetingIDs, maxLetterMeetings, meetingIDPattern, "a meeting id (letters, digits and . _ : -, up to 64)")
	letterRefs(&v, "case_codes", l.CaseCodes, maxLetterCases, caseCodePattern, "a case code VT-YYYY-NNNNN")
	atts := req.GetAttachments()
	if len(atts) > c.policy.MaxCount {
		v.Add("attachments", "a letter carries at most %d attachments, not %d", c.policy.MaxCount, len(atts))
		atts = nil // each of too many is not worth checking
	}
	var files [][]byte
	for i, a := range atts {
		field := fmt.Sprintf("attachments[%d]", i)
		name := a.GetName()
		if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
			v.Add(field+".name", "is required: a file name without path separators")
		} else {
			letterText(&v, field+".name", name, maxAttachmentName, false)
		}
		detected, err := c.policy.Check(a.GetData())
		switch {
		case err != nil:
			v.Add(field+".data", "%s", err)
		case a.GetContentType() != "" && !letters.SameType(a.GetContentType(), detected):
			v.Add(field+".content_type", "is %q, but the content is %s", a.GetContentType(), detected)
		}
		l.Attachments = append(l.Attachments, letters.Attachment{
			Name: name, ContentType: detected, Size: int64(len(a.GetData())), SHA256: letters.Hash(a.GetData()),
		})
		files = append(files, a.GetData())
	}
	return l, files, v.Err()
}

// letterText checks free text: at most max characters, valid UTF-8, without control characters
// (line breaks too, unless multiline).
func letterText(v *apierr.Violations, field, s string, max int, multiline bool) {
	switch {
	case utf8.RuneCountInString(s) > max:
		v.Add(field, "must be at most %d characters", max)
	case !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\r' || r == '\t'))
	}):
		v.Add(field, "must be text without control characters")
	}
}

// letterRefs checks a list of references: at most max, each matching pattern, no repeats.
func letterRefs(v *apierr.Violations, field string, refs []string, max int, pattern *regexp.Regexp, what string) {
	if len(refs) > max {
		v.Add(field, "at most %d, not %d", max, len(refs))
		return
	}
	for i, r := range refs {
		switch {
		case !pattern.MatchString(r):
			v.Add(fmt.Sprintf("%s[%d]", field, i), "must be %s", what)
		case slices.Contains(refs[:i], r):
			v.Add(fmt.Sprintf("%s[%d]", field, i), "repeats %s", r)
		}
	}
}

// registered is the event of a registration: numbers, codes and ids. The subject and an outside
// counterpart's name stay out: they are free text and may name a person (see LetterRegistered).
func registered(l letters.Letter) aggregate.Event {
	return aggregate.Event{Type: "correspondence.registered", Payload: &secretariatv1.LetterRegistered{
		ProtocolNumber: l.ID, Direction: letterDirection(l.Direction), Date: l.Date,
		CounterpartMemberCode: l.MemberCode, CounterpartOutside: l.OtherInstitution != "",
		MeetingIds: l.MeetingIDs, CaseCodes: l.CaseCodes, AttachmentCount: int32(len(l.Attachments)),
		RegisteredBy: l.RegisteredBy,
	}}
}

// GetLetter returns a letter by its protocol number.
func (c *Correspondence) GetLetter(ctx context.Context, req *secretariatv1.GetLetterRequest) (*secretariatv1.GetLetterResponse, error) {
	l, err := c.letter(ctx, req.GetProtocolNumber())
	if err != nil {
		return nil, err
	}
	return &secretariatv1.GetLetterResponse{Letter: respondLetter(ctx, l)}, nil
}

// GetLetterAttachment returns the content of one attachment, with the type it was found to be.
func (c *Correspondence) GetLetterAttachment(ctx context.Context, req *secretariatv1.GetLetterAttachmentRequest) (*httpbody.HttpBody, error) {
	l, err := c.letter(ctx, req.GetProtocolNumber())
	if err != nil {
		return nil, err
	}
	i := int(req.GetIndex())
	if i < 0 || i >= len(l.Attachments) {
		return nil, apierr.NotFound("attachment", fmt.Sprintf("%s/attachments/%d", l.ID, i))
	}
	data, found, err := c.store.File(ctx, l, i)
	if err != nil {
		return nil, err
	}
	if !found || letters.Hash(data) != l.Attachments[i].SHA256 {
		// Written before the letter and never changed: missing or altered content is damage to
		// the store, for an operator, not something the caller can fix.
		c.log.ErrorContext(ctx, "an attachment's content is missing or does not match its hash", "protocol_number", l.ID, "index", i, "found", found)
		return nil, fmt.Errorf("attachment %d of letter %s is damaged", i, l.ID)
	}
	return &httpbody.HttpBody{ContentType: l.Attachments[i].ContentType, Data: data}, nil
}

// letter loads a letter by protocol number, naming it in the call's audit record.
func (c *Correspondence) letter(ctx context.Context, number string) (letters.Letter, error) {
	if _, _, ok := letters.ParseNumber(number); !ok {
		return letters.Letter{}, apierr.InvalidField("protocol_number", "must be a protocol number MB-SEK-YYYY-NNNN")
	}
	authz.NoteObjects(ctx, number)
	l, err := c.store.Get(ctx, number)
	if errors.Is(err, aggregate.ErrNotFound) {
		return l, apierr.NotFound("letter", number)
	}
	return l, err
}

// ListLetters lists the register newest first; the page token carries the position of the last
// letter read.
func (c *Correspondence) ListLetters(ctx context.Context, req *secretariatv1.ListLettersRequest) (*secretariatv1.ListLettersResponse, error) {
	size, before, err := pagination.ParsePosition(req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	year := int(req.GetYear())
	if year != 0 && (year < letters.FirstYear || year > 9999) {
		return nil, apierr.InvalidField("year", "must be a year from %d, or 0 for every year", letters.FirstYear)
	}
	if before > 0 {
		at, _, ok := letters.AtPosition(before)
		if !ok || (year != 0 && at != year) {
			return nil, apierr.InvalidField("page_token", "is not a token returned by this API")
		}
	}
	from := year
	if from == 0 {
		// No letter is dated after today.
		from = c.now().In(letters.Tirana).Year()
	}
	counterpart := strings.TrimSpace(req.GetCounterpart())
	keep := func(l letters.Letter) bool {
		return counterpart == "" || l.MemberCode == counterpart || strings.EqualFold(l.OtherInstitution, counterpart)
	}
	ls, last, more, err := c.store.Newest(ctx, from, year != 0, before, size, keep)
	if err != nil {
		return nil, err
	}
	resp := &secretariatv1.ListLettersResponse{Letters: make([]*secretariatv1.Letter, 0, len(ls))}
	for _, l := range ls {
		resp.Letters = append(resp.Letters, letterToProto(l))
	}
	if more {
		resp.NextPageToken = pagination.PositionToken(last)
	}
	return resp, nil
}

// respondLetter renders a letter and sends its etag.
func respondLetter(ctx context.Context, l letters.Letter) *secretariatv1.Letter {
	aggregate.SendETag(ctx, l.Version)
	return letterToProto(l)
}

func letterToProto(l letters.Letter) *secretariatv1.Letter {
	out := &secretariatv1.Letter{
		ProtocolNumber: l.ID, Direction: letterDirection(l.Direction), Date: l.Date,
		Counterpart: &secretariatv1.Counterpart{MemberCode: l.MemberCode, OtherInstitution: l.OtherInstitution},
		Subject:     l.Subject, MeetingIds: l.MeetingIDs, CaseCodes: l.CaseCodes,
		RegisteredAt: timestamppb.New(l.RegisteredAt), RegisteredBy: l.RegisteredBy,
		Version: l.Version, Etag: aggregate.ETag(l.Version),
	}
	for _, a := range l.Attachments {
		out.Attachments = append(out.Attachments, &secretariatv1.Attachment{
			Name: a.Name, ContentType: a.ContentType, SizeBytes: a.Size, Sha256: a.SHA256,
		})
	}
	return out
}

func letterDirection(d string) secretariatv1.LetterDirection {
	return secretariatv1.LetterDirection(secretariatv1.LetterDirection_value[d])
}

// FileGrace is how long the files of a registration may wait for their letter before the sweep
// deletes them: far longer than any registration takes (a request's deadline is seconds), so
// that only the files of registrations that stopped before their commit are deleted.
const FileGrace = 24 * time.Hour

// SweepFiles deletes the files of registrations that stopped before their commit more than
// FileGrace ago (letters.Store.Sweep): attachments no letter will ever name.
func (c *Correspondence) SweepFiles(ctx context.Context) error {
	n, err := c.store.Sweep(ctx, c.now().Add(-FileGrace))
	if n > 0 {
		c.log.InfoContext(ctx, "the files of registrations that never committed were deleted", "registrations", n)
	}
	return err
}
