package secretariat_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	secretariatv1 "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/natsbus"
	"github.com/nrm-albania/nrm/services/platform/testenv"
	"github.com/nrm-albania/nrm/services/secretariat"
	"github.com/nrm-albania/nrm/services/secretariat/internal/letters"
	"github.com/nrm-albania/nrm/services/secretariat/internal/server"
)

// register is a running secretariat for the register's tests, its database at hand.
type register struct {
	*testenv.Served
	db     *mongo.Database
	client secretariatv1.CorrespondenceServiceClient
}

// serveRegister runs the whole service on a fresh database with the settings given (by
// environment variable name), the defaults for the rest.
func serveRegister(t *testing.T, settings map[string]string) register {
	t.Helper()
	db := testenv.Database(t)
	cfg := secretariat.Defaults()
	cfg.MongoURI, cfg.MongoDatabase = testenv.MongoURI(t), db.Name()
	svc, err := secretariat.Configured(settings)
	if err != nil {
		t.Fatal(err)
	}
	s := testenv.Serve(t, cfg, svc.Setup)
	return register{Served: s, db: db, client: secretariatv1.NewCorrespondenceServiceClient(s.Conn)}
}

// as is a client of the register calling as institution with roles.
func (r register) as(t *testing.T, institution string, roles ...auth.Role) secretariatv1.CorrespondenceServiceClient {
	return secretariatv1.NewCorrespondenceServiceClient(r.Dial(t, r.Issuer.Token(t, institution, roles...)))
}

// stored counts the documents of the register's collections: the letters, their commits, their
// files, the keyed registrations and the uploads not settled.
func (r register) stored(t *testing.T) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, c := range []string{"letters", "letter_revisions", letters.FileCollection, letters.RegistrationCollection, letters.UploadCollection} {
		n, err := r.db.Collection(c).CountDocuments(t.Context(), bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		out[c] = n
	}
	return out
}

var (
	pdf  = []byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	png  = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00")
	gif  = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00,")
	html = []byte("<!DOCTYPE html><html><script>alert(1)</script></html>")
)

func thisYear() int { return time.Now().In(letters.Tirana).Year() }

// letterOn is a valid registration of a letter dated date ("" for today).
func letterOn(date string) *secretariatv1.RegisterLetterRequest {
	return &secretariatv1.RegisterLetterRequest{
		Direction:   secretariatv1.LetterDirection_LETTER_DIRECTION_IN,
		Date:        date,
		Counterpart: &secretariatv1.Counterpart{MemberCode: "ASP-ANTITRAF"},
		Subject:     "Request for the list of potential victims identified in October",
		CaseCodes:   []string{"VT-2026-00042"},
		MeetingIds:  []string{"0192f0c1-7d5e-7a31-9c4b-2f1e8d6a5b40"},
	}
}

func withKey(ctx context.Context, key string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "idempotency-key", key)
}

func violated(err error) []string {
	var fields []string
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				fields = append(fields, v.GetField())
			}
		}
	}
	return fields
}

func reason(err error) string {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}

// Every problem of a registration is INVALID_ARGUMENT naming the field (the attachment by its
// index), and nothing at all is written, a key sent or not.
func TestInvalidLettersAreRefusedAndNothingIsWritten(t *testing.T) {
	r := serveRegister(t, map[string]string{"NRM_LETTER_ATTACHMENT_MAX_BYTES": "1024", "NRM_LETTER_ATTACHMENT_MAX_COUNT": "2"})
	change := func(f func(*secretariatv1.RegisterLetterRequest)) *secretariatv1.RegisterLetterRequest {
		req := letterOn("")
		f(req)
		return req
	}
	tomorrow := time.Now().In(letters.Tirana).AddDate(0, 0, 1).Format(time.DateOnly)
	for _, tt := range []struct {
		name  string
		req   *secretariatv1.RegisterLetterRequest
		field string
	}{
		{"no direction", change(func(r *secretariatv1.RegisterLetterRequest) { r.Direction = 0 }), "direction"},
		{"an unknown direction", change(func(r *secretariatv1.RegisterLetterRequest) { r.Direction = 7 }), "direction"},
		{"a date in the future", change(func(r *secretariatv1.RegisterLetterRequest) { r.Date = tomorrow }), "date"},
		{"a date that is not one", change(func(r *secretariatv1.RegisterLetterRequest) { r.Date = "2026-02-30" }), "date"},
		{"an empty subject", change(func(r *secretariatv1.RegisterLetterRequest) { r.Subject = "  " }), "subject"},
		{"a subject too long", change(func(r *secretariatv1.RegisterLetterRequest) { r.Subject = strings.Repeat("ë", 501) }), "subject"},
		{"no counterpart", change(func(r *secretariatv1.RegisterLetterRequest) { r.Counterpart = nil }), "counterpart"},
		{"two counterparts", change(func(r *secretariatv1.RegisterLetterRequest) { r.Counterpart.OtherInstitution = "Embassy of Italy" }), "counterpart"},
		{"a counterpart that is not a member", change(func(r *secretariatv1.RegisterLetterRequest) {
			r.Counterpart.MemberCode = "EMBASSY-IT"
		}), "counterpart.member_code"},
		{"an invalid case code", change(func(r *secretariatv1.RegisterLetterRequest) { r.CaseCodes = []string{"VT-2026-00042", "Arta Hoxha"} }), "case_codes[1]"},
		{"a case code twice", change(func(r *secretariatv1.RegisterLetterRequest) { r.CaseCodes = []string{"VT-2026-00042", "VT-2026-00042"} }), "case_codes[1]"},
		{"an invalid meeting id", change(func(r *secretariatv1.RegisterLetterRequest) { r.MeetingIds = []string{"the October meeting"} }), "meeting_ids[0]"},
		{"an attachment too large", change(func(r *secretariatv1.RegisterLetterRequest) {
			r.Attachments = []*secretariatv1.Attachment{{Name: "a.pdf", Data: pdf}, {Name: "b.pdf", Data: append(slices.Clone(pdf), make([]byte, 1024)...)}}
		}), "attachments[1].data"},
		{"a refused type", change(func(r *secretariatv1.RegisterLetterRequest) {
			r.Attachments = []*secretariatv1.Attachment{{Name: "photo.gif", Data: gif}}
		}), "attachments[0].data"},
		{"a page that is a PDF by its name only", change(func(r *secretariatv1.RegisterLetterRequest) {
			r.Attachments = []*secretariatv1.Attachment{{Name: "a.pdf", Data: pdf}, {Name: "invoice.pdf", ContentType: "application/pdf", Data: html}}
		}), "attachments[1].data"},
		{"a declared type the content belies", change(func(r *secretariatv1.RegisterLetterRequest) {
			r.Attachments = []*secretariatv1.Attachment{{Name: "scan.pdf", ContentType: "application/pdf", Data: png}}
		}), "attachments[0].content_type"},
		{"an empty attachment", change(func(r *secretariatv1.RegisterLetterRequest) {
			r.Attachments = []*secretariatv1.Attachment{{Name: "empty.txt"}}
		}), "attachments[0].data"},
		{"a name with a path", change(func(r *secretariatv1.RegisterLetterRequest) {
			r.Attachments = []*secretariatv1.Attachment{{Name: "../../etc/passwd", Data: pdf}}
		}), "attachments[0].name"},
		{"too many attachments", change(func(r *secretariatv1.RegisterLetterRequest) {
			r.Attachments = []*secretariatv1.Attachment{{Name: "1.pdf", Data: pdf}, {Name: "2.pdf", Data: pdf}, {Name: "3.pdf", Data: pdf}}
		}), "attachments"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.client.RegisterLetter(withKey(t.Context(), "bad-"+tt.name), tt.req)
			if status.Code(err) != codes.InvalidArgument || !slices.Contains(violated(err), tt.field) {
				t.Fatalf("err = %v (fields %v), want InvalidArgument on %s", err, violated(err), tt.field)
			}
		})
	}
	for _, tt := range []struct {
		name string
		req  *secretariatv1.ListLettersRequest
	}{
		{"a page token not issued", &secretariatv1.ListLettersRequest{PageToken: "bm90LWEtdG9rZW4"}},
		{"a position no letter can be at", &secretariatv1.ListLettersRequest{PageToken: "eyJhIjoiNDIifQ"}},
		{"a year before the register", &secretariatv1.ListLettersRequest{Year: 1999}},
		{"a page too large", &secretariatv1.ListLettersRequest{PageSize: 101}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := r.client.ListLetters(t.Context(), tt.req); status.Code(err) != codes.InvalidArgument {
				t.Fatalf("err = %v, want InvalidArgument", err)
			}
		})
	}
	for c, n := range r.stored(t) {
		if n != 0 {
			t.Errorf("%d documents in %s after refused registrations, want none", n, c)
		}
	}
}

// Numbers run from 0001 in each year of the letters' dates, in the order letters are registered,
// whatever the order of their dates.
func TestProtocolNumbersRunPerYearOfTheLettersDate(t *testing.T) {
	r := serveRegister(t, nil)
	y := thisYear()
	for _, tt := range []struct{ date, want string }{
		{fmt.Sprintf("%d-01-02", y), fmt.Sprintf("MB-SEK-%d-0001", y)},
		{fmt.Sprintf("%d-01-01", y), fmt.Sprintf("MB-SEK-%d-0002", y)},
		{fmt.Sprintf("%d-12-31", y-1), fmt.Sprintf("MB-SEK-%d-0001", y-1)},
		{"", fmt.Sprintf("MB-SEK-%d-0003", y)},
		{fmt.Sprintf("%d-06-30", y-1), fmt.Sprintf("MB-SEK-%d-0002", y-1)},
	} {
		resp, err := r.client.RegisterLetter(t.Context(), letterOn(tt.date))
		if err != nil {
			t.Fatalf("register a letter of %q: %v", tt.date, err)
		}
		if got := resp.GetLetter().GetProtocolNumber(); got != tt.want {
			t.Errorf("letter of %q: number %s, want %s", tt.date, got, tt.want)
		}
	}
}

// Registrations at once get distinct numbers, 1 to n without a gap.
func TestConcurrentRegistrationsGetDistinctNumbersWithoutGaps(t *testing.T) {
	r := serveRegister(t, nil)
	const n = 20
	numbers := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			resp, err := r.client.RegisterLetter(t.Context(), letterOn(""))
			numbers[i], errs[i] = resp.GetLetter().GetProtocolNumber(), err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("registration %d: %v", i, err)
		}
	}
	slices.Sort(numbers)
	for i, got := range numbers {
		if want := letters.Number(thisYear(), int64(i+1)); got != want {
			t.Fatalf("numbers %v: want %s to %s", numbers, letters.Number(thisYear(), 1), letters.Number(thisYear(), n))
		}
	}
}

// A retry with the key answers the letter the first attempt registered, however many retries
// race; the key with another letter is refused; another institution's same key is its own.
func TestARetriedRegistrationAnswersTheSameLetter(t *testing.T) {
	r := serveRegister(t, nil)
	req := letterOn("")
	req.Attachments = []*secretariatv1.Attachment{{Name: "request.pdf", Data: pdf}}
	first, err := r.client.RegisterLetter(withKey(t.Context(), "letter-1"), req)
	if err != nil {
		t.Fatal(err)
	}
	number := first.GetLetter().GetProtocolNumber()
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			again, err := r.client.RegisterLetter(withKey(t.Context(), "letter-1"), req)
			if err != nil || again.GetLetter().GetProtocolNumber() != number {
				t.Errorf("retry: %v, %v; want %s", again.GetLetter().GetProtocolNumber(), err, number)
			}
		})
	}
	wg.Wait()
	other := letterOn("")
	other.Subject = "Another letter"
	if _, err := r.client.RegisterLetter(withKey(t.Context(), "letter-1"), other); status.Code(err) != codes.FailedPrecondition || reason(err) != "IDEMPOTENCY_KEY_REUSED" {
		t.Errorf("the key with another letter: %v, want FAILED_PRECONDITION IDEMPOTENCY_KEY_REUSED", err)
	}
	if got := r.stored(t)["letters"]; got != 1 {
		t.Errorf("%d letters after retries, want 1", got)
	}
	secretary := r.as(t, "MB-SEKRETARIATI", auth.RoleSecretariat) // the tests' own calls are the chair's (MB-DPAM)
	theirs, err := secretary.RegisterLetter(withKey(t.Context(), "letter-1"), req)
	if err != nil || theirs.GetLetter().GetProtocolNumber() == number {
		t.Errorf("another institution's same key: %v, %v; want a letter of its own", theirs.GetLetter().GetProtocolNumber(), err)
	}
}

// Attachments are described by the letter (type by content, size, SHA-256) and served as they
// were sent.
func TestAttachmentsRoundTripWithTheirHashes(t *testing.T) {
	r := serveRegister(t, nil)
	text := []byte("Tiranë, 3 dhjetor: ftesë për mbledhjen e Autoritetit.\n")
	req := letterOn("")
	req.Direction = secretariatv1.LetterDirection_LETTER_DIRECTION_OUT
	req.Counterpart = &secretariatv1.Counterpart{OtherInstitution: "Embassy of Italy in Tirana"}
	req.Attachments = []*secretariatv1.Attachment{
		{Name: "invitation.pdf", ContentType: "application/pdf", Data: pdf},
		{Name: "scan.png", Data: png},
		{Name: "note.txt", Data: text},
	}
	resp, err := r.client.RegisterLetter(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	number := resp.GetLetter().GetProtocolNumber()
	got, err := r.client.GetLetter(t.Context(), &secretariatv1.GetLetterRequest{ProtocolNumber: number})
	if err != nil {
		t.Fatal(err)
	}
	wantTypes := []string{"application/pdf", "image/png", "text/plain; charset=utf-8"}
	for i, a := range got.GetLetter().GetAttachments() {
		sent := req.Attachments[i]
		if a.GetName() != sent.GetName() || a.GetContentType() != wantTypes[i] || a.GetSizeBytes() != int64(len(sent.GetData())) ||
			a.GetSha256() != letters.Hash(sent.GetData()) || len(a.GetData()) != 0 {
			t.Errorf("attachment %d described as %v", i, a)
		}
		body, err := r.client.GetLetterAttachment(t.Context(), &secretariatv1.GetLetterAttachmentRequest{ProtocolNumber: number, Index: int32(i)})
		if err != nil {
			t.Fatalf("attachment %d: %v", i, err)
		}
		if !bytes.Equal(body.GetData(), sent.GetData()) || body.GetContentType() != wantTypes[i] {
			t.Errorf("attachment %d served as %q, %d bytes", i, body.GetContentType(), len(body.GetData()))
		}
	}
	if n := len(got.GetLetter().GetAttachments()); n != 3 {
		t.Fatalf("%d attachments described, want 3", n)
	}
	if n := r.stored(t)[letters.UploadCollection]; n != 0 {
		t.Errorf("%d uploads left once the letter is registered, want 0", n)
	}
	for _, tt := range []struct {
		number string
		index  int32
		code   codes.Code
	}{
		{number, 3, codes.NotFound},
		{number, -1, codes.NotFound},
		{letters.Number(thisYear(), 99), 0, codes.NotFound},
		{"MB-SEK-2026-42", 0, codes.InvalidArgument},
	} {
		_, err := r.client.GetLetterAttachment(t.Context(), &secretariatv1.GetLetterAttachmentRequest{ProtocolNumber: tt.number, Index: tt.index})
		if status.Code(err) != tt.code {
			t.Errorf("attachment %d of %s: %v, want %v", tt.index, tt.number, err, tt.code)
		}
	}
}

// A registration that stopped after storing its files and before its commit leaves files no letter
// names: the sweep deletes them once they are older than server.FileGrace, and leaves alone the
// files of a registered letter (settling its upload, had that failed) and those of a registration
// still within the grace.
func TestTheSweepDeletesTheFilesNoLetterWillName(t *testing.T) {
	r := serveRegister(t, nil)
	ctx := t.Context()
	req := letterOn("")
	req.Attachments = []*secretariatv1.Attachment{{Name: "invitation.pdf", Data: pdf}}
	resp, err := r.client.RegisterLetter(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	number := resp.GetLetter().GetProtocolNumber()
	var registered struct {
		Registration string `bson:"registration"`
	}
	if err := r.db.Collection("letters").FindOne(ctx, bson.D{{Key: "_id", Value: number}}).Decode(&registered); err != nil {
		t.Fatal(err)
	}
	st, now := letters.New(r.db), time.Now()
	old := now.Add(-server.FileGrace - time.Hour)
	// The letter's upload, as if settling it had failed after the commit.
	if _, err := r.db.Collection(letters.UploadCollection).InsertOne(ctx, letters.Upload{ID: registered.Registration, Files: 1,
		Year: thisYear(), After: 0, CreatedAt: old}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		registration string
		files        [][]byte
		at           time.Time
	}{
		{"crashed", [][]byte{pdf, png}, old},
		{"under-way", [][]byte{png}, now},
	} {
		if err := st.PutFiles(ctx, u.registration, thisYear(), u.files, u.at); err != nil {
			t.Fatal(err)
		}
	}
	if got := r.stored(t); got[letters.FileCollection] != 4 || got[letters.UploadCollection] != 3 {
		t.Fatalf("before the sweep: %v", got)
	}
	if n, err := st.Sweep(ctx, now.Add(-server.FileGrace)); err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want the crashed registration's files deleted", n, err)
	}
	if got := r.stored(t); got[letters.FileCollection] != 2 || got[letters.UploadCollection] != 1 {
		t.Errorf("after the sweep: %v; want the letter's file and the one under way, and its upload", got)
	}
	if body, err := r.client.GetLetterAttachment(ctx, &secretariatv1.GetLetterAttachmentRequest{ProtocolNumber: number}); err != nil || !bytes.Equal(body.GetData(), pdf) {
		t.Errorf("the registered letter's attachment after the sweep: %v", err)
	}
	if n, err := st.Sweep(ctx, now.Add(-server.FileGrace)); err != nil || n != 0 {
		t.Errorf("a second sweep: %d, %v", n, err)
	}
}

// The register lists newest first, across years, in pages; a year or a counterpart narrows it.
func TestListingIsNewestFirstInPages(t *testing.T) {
	r := serveRegister(t, nil)
	y := thisYear()
	var want []string
	for i, date := range []string{fmt.Sprintf("%d-03-01", y-1), fmt.Sprintf("%d-04-01", y-1), "", "", "", ""} {
		req := letterOn(date)
		if i%2 == 1 {
			req.Counterpart = &secretariatv1.Counterpart{OtherInstitution: "Embassy of Italy in Tirana"}
		}
		resp, err := r.client.RegisterLetter(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		want = append([]string{resp.GetLetter().GetProtocolNumber()}, want...)
	}
	want = append(want[:4:4], want[4:]...) // this year's four, then last year's two
	list := func(req *secretariatv1.ListLettersRequest) [][]string {
		var pages [][]string
		for {
			resp, err := r.client.ListLetters(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			var page []string
			for _, l := range resp.GetLetters() {
				page = append(page, l.GetProtocolNumber())
			}
			pages = append(pages, page)
			if resp.GetNextPageToken() == "" {
				return pages
			}
			req.PageToken = resp.GetNextPageToken()
		}
	}
	for _, tt := range []struct {
		name string
		req  *secretariatv1.ListLettersRequest
		want [][]string
	}{
		{"every letter", &secretariatv1.ListLettersRequest{PageSize: 4}, [][]string{want[:4], want[4:]}},
		{"in threes", &secretariatv1.ListLettersRequest{PageSize: 3}, [][]string{want[:3], want[3:]}},
		{"last year's", &secretariatv1.ListLettersRequest{Year: int32(y - 1)}, [][]string{want[4:]}},
		{"a counterpart's", &secretariatv1.ListLettersRequest{Counterpart: "embassy of italy in tirana"}, [][]string{{want[0], want[2], want[4]}}},
		{"a member's", &secretariatv1.ListLettersRequest{Counterpart: "ASP-ANTITRAF", PageSize: 2}, [][]string{{want[1], want[3]}, {want[5]}}},
		{"a year without letters", &secretariatv1.ListLettersRequest{Year: 2001}, [][]string{nil}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := list(tt.req); !slices.EqualFunc(got, tt.want, slices.Equal) {
				t.Errorf("pages %v, want %v", got, tt.want)
			}
		})
	}
	for _, l := range mustList(t, r.client).GetLetters() {
		for _, a := range l.GetAttachments() {
			if len(a.GetData()) > 0 {
				t.Errorf("a list carries the content of %s's attachment %s", l.GetProtocolNumber(), a.GetName())
			}
		}
	}
}

func mustList(t *testing.T, c secretariatv1.CorrespondenceServiceClient) *secretariatv1.ListLettersResponse {
	t.Helper()
	resp, err := c.ListLetters(t.Context(), &secretariatv1.ListLettersRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// Members read the register; only the chair and the secretariat register letters.
func TestMembersReadTheRegisterAndStewardsKeepIt(t *testing.T) {
	r := serveRegister(t, nil)
	member := r.as(t, "KKSAT", auth.RoleMember)
	if _, err := member.RegisterLetter(t.Context(), letterOn("")); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("a member registering: %v, want PermissionDenied", err)
	}
	secretary := r.as(t, "MB-SEKRETARIATI", auth.RoleSecretariat)
	resp, err := secretary.RegisterLetter(t.Context(), letterOn(""))
	if err != nil {
		t.Fatalf("the secretariat registering: %v", err)
	}
	if by := resp.GetLetter().GetRegisteredBy(); by != "MB-SEKRETARIATI" {
		t.Errorf("registered by %q", by)
	}
	if _, err := member.GetLetter(t.Context(), &secretariatv1.GetLetterRequest{ProtocolNumber: resp.GetLetter().GetProtocolNumber()}); err != nil {
		t.Errorf("a member reading: %v", err)
	}
}

// Registering publishes correspondence.registered with the letter's numbers and codes, and
// neither its subject nor an outside counterpart's name.
func TestRegistrationPublishesAnEventWithoutFreeText(t *testing.T) {
	r := serveRegister(t, nil)
	req := letterOn("")
	req.Subject = "Arta Hoxha, born 2001, asks for a copy of her file"
	req.Counterpart = &secretariatv1.Counterpart{OtherInstitution: "Av. Besnik Krasniqi, lawyer"}
	req.Attachments = []*secretariatv1.Attachment{{Name: "request.pdf", Data: pdf}}
	resp, err := r.client.RegisterLetter(t.Context(), req, grpc.WaitForReady(true))
	if err != nil {
		t.Fatal(err)
	}
	var env *eventsv1.Envelope
	testenv.Eventually(t, 30*time.Second, "the registration's event on the stream", func() bool {
		for _, e := range r.Bus.Envelopes(t, natsbus.StreamMeeting) {
			if e.GetType() == "correspondence.registered" {
				env = e
				return true
			}
		}
		return false
	})
	var e secretariatv1.LetterRegistered
	if err := env.GetPayload().UnmarshalTo(&e); err != nil {
		t.Fatal(err)
	}
	number := resp.GetLetter().GetProtocolNumber()
	if env.GetAggregateId() != number || e.GetProtocolNumber() != number || !e.GetCounterpartOutside() || e.GetCounterpartMemberCode() != "" ||
		e.GetAttachmentCount() != 1 || !slices.Equal(e.GetCaseCodes(), req.CaseCodes) || e.GetDirection() != req.Direction {
		t.Errorf("event %v for letter %s", &e, number)
	}
	for _, text := range []string{"Hoxha", "Arta", "Krasniqi", "lawyer"} {
		if strings.Contains(string(env.GetPayload().GetValue()), text) {
			t.Errorf("the event carries %q from the letter's free text", text)
		}
	}
}
