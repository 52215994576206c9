package secretariat_test

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	secretariatv1 "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/natsbus"
	"github.com/nrm-albania/nrm/services/platform/testenv"
	"github.com/nrm-albania/nrm/services/secretariat"
	"github.com/nrm-albania/nrm/services/secretariat/internal/mail/mailtest"
)

// assembly is a running secretariat whose notices go to a test mail server.
type assembly struct {
	*testenv.Served
	mail *mailtest.Server
}

func serveAssembly(t *testing.T) assembly {
	t.Helper()
	srv := mailtest.Start(t, mailtest.Options{})
	svc, err := secretariat.Configured(map[string]string{
		"NRM_SMTP_ADDR": srv.Addr, "NRM_DEV_REPRESENTATIVES": "true",
		"NRM_NOTIFICATION_INTERVAL": "100ms", "NRM_NOTIFICATION_RETRY_MIN": "100ms", "NRM_NOTIFICATION_RETRY_MAX": "300ms",
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := secretariat.Defaults()
	cfg.MongoURI, cfg.MongoDatabase = testenv.MongoURI(t), testenv.Database(t).Name()
	return assembly{Served: testenv.Serve(t, cfg, svc.Setup), mail: srv}
}

func (a assembly) meetings(t *testing.T, institution string, roles ...auth.Role) secretariatv1.MeetingServiceClient {
	return secretariatv1.NewMeetingServiceClient(a.Dial(t, a.Issuer.Token(t, institution, roles...)))
}

func (a assembly) stewards(t *testing.T) secretariatv1.MeetingServiceClient {
	return a.meetings(t, "MB-SEKRETARIATI", auth.RoleSecretariat)
}

func scheduleIn(t *testing.T, c secretariatv1.MeetingServiceClient, days int, opts ...grpc.CallOption) *secretariatv1.Meeting {
	t.Helper()
	resp, err := c.ScheduleMeeting(t.Context(), &secretariatv1.ScheduleMeetingRequest{
		Kind: secretariatv1.MeetingKind_MEETING_KIND_REGULAR, Place: "Ministry of Interior, room 3",
		StartTime: timestamppb.New(time.Now().AddDate(0, 0, days).Truncate(time.Minute)),
	}, opts...)
	if err != nil {
		t.Fatalf("schedule: %v", err)
	}
	return resp.GetMeeting()
}

func reasonOf(err error) string {
	for _, d := range status.Convert(err).Details() {
		if i, ok := d.(interface{ GetReason() string }); ok {
			return i.GetReason()
		}
	}
	return ""
}

// With the mail server down, the invitations wait in the queue (and the inbox shows them
// pending); once it is back every representative and substitute gets one message, once.
func TestInvitationsWaitForTheMailServerAndGoOnce(t *testing.T) {
	a := serveAssembly(t)
	a.mail.Stop()
	c := a.stewards(t)
	m := scheduleIn(t, c, 15)
	sent, err := c.SendInvitations(t.Context(), &secretariatv1.SendInvitationsRequest{Id: m.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	inbox := func() *secretariatv1.Notification {
		l, err := a.meetings(t, "KKSAT", auth.RoleMember).ListNotifications(t.Context(), &secretariatv1.ListNotificationsRequest{})
		if err != nil || len(l.GetNotifications()) == 0 {
			return nil
		}
		return l.GetNotifications()[0]
	}
	testenv.Eventually(t, 20*time.Second, "a failed attempt while the server is down", func() bool {
		n := inbox()
		return n != nil && n.GetId() == sent.GetNotificationId() && len(n.GetDeliveries()) == 26 &&
			n.GetDeliveries()[0].GetState() == "pending" && n.GetDeliveries()[0].GetAttempts() >= 1
	})
	if got := len(a.mail.Messages()); got != 0 {
		t.Fatalf("%d messages while the server was down", got)
	}

	a.mail.Restart()
	testenv.Eventually(t, 20*time.Second, "26 messages once the server is back", func() bool { return len(a.mail.Messages()) >= 26 })
	time.Sleep(time.Second) // time for a duplicate to arrive, were one to be sent
	var to []string
	for _, msg := range a.mail.Messages() {
		to = append(to, msg.To)
		if !bytes.Contains(msg.Data, []byte("METHOD:REQUEST")) {
			t.Errorf("the message to %s carries no invitation", msg.To)
		}
	}
	slices.Sort(to)
	if len(to) != 26 || len(slices.Compact(to)) != 26 {
		t.Errorf("messages to %v, want 26 addresses once each", to)
	}
	testenv.Eventually(t, 10*time.Second, "every delivery recorded as sent", func() bool {
		n := inbox()
		return n != nil && !slices.ContainsFunc(n.GetDeliveries(), func(d *secretariatv1.DeliveryState) bool { return d.GetState() != "sent" })
	})
	// Another institution's inbox is not KKSAT's to read.
	if _, err := a.meetings(t, "KKSAT", auth.RoleMember).ListNotifications(t.Context(), &secretariatv1.ListNotificationsRequest{Institution: "MAS"}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("KKSAT reading MAS's inbox: %v", err)
	}
}

// Each refusal says why and leaves the meeting as it was.
func TestMeetingRefusalsChangeNothing(t *testing.T) {
	a := serveAssembly(t)
	c := a.stewards(t)
	ctx := t.Context()

	// Scheduling: the notice, the callers of an extraordinary meeting, the fields.
	for _, tt := range []struct {
		name   string
		req    *secretariatv1.ScheduleMeetingRequest
		code   codes.Code
		reason string
	}{
		{"inside the notice", &secretariatv1.ScheduleMeetingRequest{Kind: secretariatv1.MeetingKind_MEETING_KIND_REGULAR, Place: "room 3",
			StartTime: timestamppb.New(time.Now().Add(24 * time.Hour))}, codes.FailedPrecondition, "NOTICE_PERIOD"},
		{"extraordinary by four members", &secretariatv1.ScheduleMeetingRequest{Kind: secretariatv1.MeetingKind_MEETING_KIND_EXTRAORDINARY, Place: "room 3",
			StartTime: timestamppb.New(time.Now().Add(72 * time.Hour)), Reason: "a cross-border case",
			CalledBy: []string{"ASP-ANTITRAF", "ASP-KUFIRI", "KKSAT", "MAS"}}, codes.FailedPrecondition, "NOT_ENOUGH_CALLERS"},
		{"no kind", &secretariatv1.ScheduleMeetingRequest{Place: "room 3", StartTime: timestamppb.New(time.Now().AddDate(0, 0, 20))}, codes.InvalidArgument, ""},
		{"nowhere", &secretariatv1.ScheduleMeetingRequest{Kind: secretariatv1.MeetingKind_MEETING_KIND_REGULAR, StartTime: timestamppb.New(time.Now().AddDate(0, 0, 20))}, codes.InvalidArgument, ""},
		{"no start", &secretariatv1.ScheduleMeetingRequest{Kind: secretariatv1.MeetingKind_MEETING_KIND_REGULAR, Place: "room 3"}, codes.InvalidArgument, ""},
		{"an unknown invitee", &secretariatv1.ScheduleMeetingRequest{Kind: secretariatv1.MeetingKind_MEETING_KIND_REGULAR, Place: "room 3",
			StartTime: timestamppb.New(time.Now().AddDate(0, 0, 20)), Invitees: []string{"PROKURORIA-TIRANE"}}, codes.InvalidArgument, ""},
		{"a link that is not https", &secretariatv1.ScheduleMeetingRequest{Kind: secretariatv1.MeetingKind_MEETING_KIND_REGULAR, OnlineLink: "http://meet.example/x",
			StartTime: timestamppb.New(time.Now().AddDate(0, 0, 20))}, codes.InvalidArgument, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.ScheduleMeeting(ctx, tt.req)
			if status.Code(err) != tt.code || (tt.reason != "" && reasonOf(err) != tt.reason) {
				t.Errorf("%v, want %v %s", err, tt.code, tt.reason)
			}
		})
	}
	if l, err := c.ListMeetings(ctx, &secretariatv1.ListMeetingsRequest{}); err != nil || len(l.GetMeetings()) != 0 {
		t.Fatalf("refused meetings were kept: %v %v", l, err)
	}

	// Scheduling with a key twice gives one meeting; the key is per institution.
	keyed := metadata.AppendToOutgoingContext(ctx, "idempotency-key", "monthly-2026-12")
	first, err := c.ScheduleMeeting(keyed, &secretariatv1.ScheduleMeetingRequest{Kind: secretariatv1.MeetingKind_MEETING_KIND_REGULAR, Place: "room 3",
		StartTime: timestamppb.New(time.Now().AddDate(0, 0, 20).Truncate(time.Minute))})
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.ScheduleMeeting(keyed, &secretariatv1.ScheduleMeetingRequest{Kind: secretariatv1.MeetingKind_MEETING_KIND_REGULAR, Place: "room 3",
		StartTime: timestamppb.New(time.Now().AddDate(0, 0, 20).Truncate(time.Minute))})
	if err != nil || again.GetMeeting().GetId() != first.GetMeeting().GetId() {
		t.Fatalf("a retried scheduling: %v, %v", again.GetMeeting().GetId(), err)
	}
	id := first.GetMeeting().GetId()

	if _, err := c.SendInvitations(ctx, &secretariatv1.SendInvitationsRequest{Id: id}); err != nil {
		t.Fatal(err)
	}
	version := func() int64 {
		m, err := c.GetMeeting(ctx, &secretariatv1.GetMeetingRequest{Id: id})
		if err != nil {
			t.Fatal(err)
		}
		return m.GetMeeting().GetVersion()
	}

	// A member replies for itself only.
	if _, err := a.meetings(t, "KKSAT", auth.RoleMember).ReplyToInvitation(ctx, &secretariatv1.ReplyToInvitationRequest{
		Id: id, Institution: "MAS", Reply: secretariatv1.InvitationReply_INVITATION_REPLY_DECLINES}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("KKSAT replying for MAS: %v", err)
	}
	// The frozen agenda takes no reordering.
	before := version()
	if _, err := c.MoveAgendaItem(ctx, &secretariatv1.MoveAgendaItemRequest{Id: id, ItemId: "x", Position: 1}); reasonOf(err) != "AGENDA_FROZEN" {
		t.Errorf("moving an item of a frozen agenda: %v", err)
	}

	// Six present, the chair among them: no quorum, no decision, nothing written.
	for _, inst := range []string{"MB-DPAM", "ASP-ANTITRAF", "ASP-KUFIRI", "KKSAT", "ISHPSHSH", "SHSSH"} {
		if _, err := c.RecordAttendance(ctx, &secretariatv1.RecordAttendanceRequest{Id: id, Institution: inst, Presence: secretariatv1.Presence_PRESENCE_REPRESENTATIVE}); err != nil {
			t.Fatal(err)
		}
	}
	item, err := c.AddAgendaItem(ctx, &secretariatv1.AddAgendaItemRequest{Id: id, Title: "Cooperation with the prosecution", CaseCodes: []string{"VT-2026-00012"}})
	if err != nil || !item.GetItem().GetAddendum() {
		t.Fatalf("an item after the invitations is an addendum: %v %v", item.GetItem(), err)
	}
	if _, err := c.OpenMeeting(ctx, &secretariatv1.OpenMeetingRequest{Id: id}); err != nil {
		t.Fatal(err)
	}
	before = version()
	_, err = c.RecordDecision(ctx, &secretariatv1.RecordDecisionRequest{Id: id, AgendaItemId: item.GetItem().GetId(), Text: "Ask the prosecution.",
		Kind: secretariatv1.DecisionKind_DECISION_KIND_OTHER, Consensus: true,
		ActionItems: []*secretariatv1.NewActionItem{{Owner: "MB-DPAM", Title: "Write to the prosecution", DueDate: "2027-01-10"}}})
	if status.Code(err) != codes.FailedPrecondition || reasonOf(err) != "NO_QUORUM" {
		t.Fatalf("a decision of six: %v", err)
	}
	if v := version(); v != before {
		t.Errorf("a refused decision changed the meeting: version %d → %d", before, v)
	}
	if l, err := c.ListActionItems(ctx, &secretariatv1.ListActionItemsRequest{}); err != nil || len(l.GetActionItems()) != 0 {
		t.Errorf("a refused decision left action items: %v %v", l, err)
	}
	// Bad decisions: votes with consensus, an absent voter, no text.
	for _, bad := range []*secretariatv1.RecordDecisionRequest{
		{Id: id, AgendaItemId: item.GetItem().GetId(), Text: "x", Kind: secretariatv1.DecisionKind_DECISION_KIND_OTHER, Consensus: true,
			Votes: []*secretariatv1.MemberVote{{Institution: "KKSAT", Vote: secretariatv1.Vote_VOTE_FOR}}},
		{Id: id, AgendaItemId: item.GetItem().GetId(), Kind: secretariatv1.DecisionKind_DECISION_KIND_OTHER, Consensus: true},
		{Id: id, AgendaItemId: item.GetItem().GetId(), Text: "x", Kind: secretariatv1.DecisionKind_DECISION_KIND_OTHER, Consensus: true,
			ActionItems: []*secretariatv1.NewActionItem{{Owner: "SOMEONE", Title: "t", DueDate: "2027-01-10"}}},
	} {
		if _, err := c.RecordDecision(ctx, bad); status.Code(err) != codes.InvalidArgument {
			t.Errorf("a bad decision %v: %v", bad, err)
		}
	}
	// Closing needs no quorum; approved minutes (none yet) cannot be amended before drafting.
	if _, err := c.AmendMinutes(ctx, &secretariatv1.AmendMinutesRequest{Id: id, Notes: "x"}); reasonOf(err) != "INVALID_STATE" {
		t.Errorf("amending minutes not drafted: %v", err)
	}
	// An unknown meeting, a malformed id.
	if _, err := c.GetMeeting(ctx, &secretariatv1.GetMeetingRequest{Id: "0192f0c1-7d5e-7a31-9c4b-2f1e8d6a5b40"}); status.Code(err) != codes.NotFound {
		t.Errorf("an unknown meeting: %v", err)
	}
	if _, err := c.GetMeeting(ctx, &secretariatv1.GetMeetingRequest{Id: "MB-2026-12-R"}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("a malformed id: %v", err)
	}

	// The changes were published on the secretariat's stream, decisions apart.
	testenv.Eventually(t, 10*time.Second, "the meeting's events", func() bool {
		var types []string
		for _, e := range a.Bus.Envelopes(t, natsbus.StreamMeeting) {
			types = append(types, e.GetType())
		}
		return slices.Contains(types, "meeting.scheduled") && slices.Contains(types, "meeting.addendum") &&
			slices.Contains(types, "meeting.opened") && !slices.Contains(types, "decision.recorded")
	})
}

// The rules of procedure and the representations through the API.
func TestRulesAndRepresentations(t *testing.T) {
	a := serveAssembly(t)
	ctx := t.Context()
	sec := secretariatv1.NewSecretariatServiceClient(a.Dial(t, a.Issuer.Token(t, "MB-SEKRETARIATI", auth.RoleSecretariat)))
	member := secretariatv1.NewSecretariatServiceClient(a.Dial(t, a.Issuer.Token(t, "KKSAT", auth.RoleMember)))

	r, err := member.GetRulesOfProcedure(ctx, &secretariatv1.GetRulesOfProcedureRequest{})
	if err != nil || r.GetRules().GetVersion() != 1 || r.GetRules().GetQuorumMembers() != 7 || !r.GetRules().GetQuorumRequiresChair() {
		t.Fatalf("the default rules: %v %v", r, err)
	}
	next := r.GetRules()
	next.EffectiveFrom, next.AdoptedBy, next.QuorumMembers = "2027-01-01", "decision MB-2026-12-R/1", 8
	if _, err := member.AdoptRulesOfProcedure(ctx, &secretariatv1.AdoptRulesOfProcedureRequest{Rules: next}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("a member adopting rules: %v", err)
	}
	if got, err := sec.AdoptRulesOfProcedure(ctx, &secretariatv1.AdoptRulesOfProcedureRequest{Rules: next}); err != nil || got.GetRules().GetVersion() != 2 {
		t.Fatalf("adopt: %v %v", got, err)
	}
	if r, _ := member.GetRulesOfProcedure(ctx, &secretariatv1.GetRulesOfProcedureRequest{On: "2027-02-01"}); r.GetRules().GetQuorumMembers() != 8 {
		t.Errorf("the rules of February 2027: %v", r.GetRules())
	}
	if _, err := member.GetRulesOfProcedure(ctx, &secretariatv1.GetRulesOfProcedureRequest{On: "next week"}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("a day that is not a date: %v", err)
	}
	// Each version, the seeded one too, is published for the other services with the
	// composition, once; the refused adoption published nothing.
	testenv.Eventually(t, 10*time.Second, "rules.adopted of versions 1 and 2", func() bool {
		var versions []int32
		for _, e := range a.Bus.Envelopes(t, natsbus.StreamMeeting) {
			var ev secretariatv1.RulesAdopted
			if e.GetType() != "rules.adopted" || e.GetPayload().UnmarshalTo(&ev) != nil || len(ev.GetMembers()) != 13 {
				continue
			}
			versions = append(versions, ev.GetRules().GetVersion())
		}
		return slices.Equal(versions, []int32{1, 2})
	})

	reps, err := member.ListRepresentations(ctx, &secretariatv1.ListRepresentationsRequest{})
	if err != nil || len(reps.GetRepresentations()) != 13 {
		t.Fatalf("the members' representations: %d %v", len(reps.GetRepresentations()), err)
	}
	prosecution := &secretariatv1.Representation{EffectiveFrom: "2026-12-01",
		Representative: &secretariatv1.Contact{Name: "Prosecutor on duty", Position: "Prosecutor", Email: "duty@prokuroria.example.al"}}
	if _, err := sec.SetRepresentation(ctx, &secretariatv1.SetRepresentationRequest{Institution: "PROKURORIA-TIRANE", Representation: prosecution}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []*secretariatv1.SetRepresentationRequest{
		{Institution: "prokuroria tirane", Representation: prosecution},
		{Institution: "PROKURORIA-TIRANE", Representation: &secretariatv1.Representation{EffectiveFrom: "2026-12-01",
			Representative: &secretariatv1.Contact{Name: "x", Email: "not an address"}}},
		{Institution: "PROKURORIA-TIRANE"},
	} {
		if _, err := sec.SetRepresentation(ctx, bad); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%v: %v", bad, err)
		}
	}
	all, _ := member.ListRepresentations(ctx, &secretariatv1.ListRepresentationsRequest{IncludeInvitees: true})
	if n := len(all.GetRepresentations()); n != 14 || all.GetRepresentations()[13].GetInstitution() != "PROKURORIA-TIRANE" || all.GetRepresentations()[13].GetMember() {
		t.Errorf("with the invitee: %d %v", n, all.GetRepresentations())
	}
	// A member's new representative, based on the version read; a second change on the same
	// version is refused.
	change := &secretariatv1.SetRepresentationRequest{Institution: "KKSAT", ExpectedVersion: 1, Representation: &secretariatv1.Representation{
		EffectiveFrom: "2026-12-10", Representative: &secretariatv1.Contact{Name: "New representative", Email: "new@kksat.example.al"}}}
	if got, err := sec.SetRepresentation(ctx, change); err != nil || got.GetRepresentation().GetVersion() != 2 || !got.GetRepresentation().GetMember() {
		t.Fatalf("a new representative: %v %v", got, err)
	}
	if _, err := sec.SetRepresentation(ctx, change); status.Code(err) != codes.Aborted {
		t.Errorf("a change on a version left behind: %v", err)
	}
	// The invitee can now be invited.
	scheduleIn(t, a.stewards(t), 20)
	if _, err := a.stewards(t).ScheduleMeeting(ctx, &secretariatv1.ScheduleMeetingRequest{Kind: secretariatv1.MeetingKind_MEETING_KIND_REGULAR, Place: "room 3",
		StartTime: timestamppb.New(time.Now().AddDate(0, 0, 21)), Invitees: []string{"PROKURORIA-TIRANE"}}); err != nil {
		t.Errorf("inviting the prosecution: %v", err)
	}
}
