package authz

import (
	"context"
	"slices"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/nrm-albania/nrm/services/platform/auth"
)

// fixed authenticates every call as one principal, or refuses all when p is nil.
type fixed struct{ p *auth.Principal }

func (f fixed) Authenticate(ctx context.Context, _ string) (context.Context, error) {
	if f.p == nil {
		return nil, status.Error(codes.Unauthenticated, "missing credentials")
	}
	return auth.NewContext(ctx, f.p), nil
}

func guardFor(p *auth.Principal) Guard {
	ps, err := ParsePurposes(DefaultPurposes)
	if err != nil {
		panic(err)
	}
	return Guard{Authn: fixed{p}, Table: Table, Purposes: ps}
}

func principal(institution string, roles ...auth.Role) *auth.Principal {
	return &auth.Principal{Institution: institution, Subject: "someone", Roles: roles, Method: "jwt"}
}

const (
	register   = "/nrm.caseregistry.v1.CaseRegistryService/RegisterCase"
	getCase    = "/nrm.caseregistry.v1.CaseRegistryService/GetCase"
	members    = "/nrm.secretariat.v1.SecretariatService/ListMembers"
	services   = "/nrm.referral.v1.ReferralService/ListServiceTypes"
	providers  = "/nrm.referral.v1.ReferralService/ListProviders"
	provider   = "/nrm.referral.v1.ReferralService/GetProvider"
	addProv    = "/nrm.referral.v1.ReferralService/RegisterProvider"
	changeProv = "/nrm.referral.v1.ReferralService/UpdateProvider"
	places     = "/nrm.referral.v1.ReferralService/UpdateProviderCapacity"
	refer      = "/nrm.referral.v1.ReferralService/CreateReferral"
	referral   = "/nrm.referral.v1.ReferralService/GetReferral"
	caseRefs   = "/nrm.referral.v1.ReferralService/ListCaseReferrals"
	listRefs   = "/nrm.referral.v1.ReferralService/ListReferrals"
	accept     = "/nrm.referral.v1.ReferralService/AcceptReferral"
	decline    = "/nrm.referral.v1.ReferralService/DeclineReferral"
	cancel     = "/nrm.referral.v1.ReferralService/CancelReferral"
	complete   = "/nrm.referral.v1.ReferralService/CompleteReferral"
	delivered  = "/nrm.referral.v1.ReferralService/RecordServiceDelivered"
	statistics = "/nrm.reporting.v1.ReportingService/GetCaseStatistics"
	refStats   = "/nrm.reporting.v1.ActivityService/GetReferralStatistics"
	meetStats  = "/nrm.reporting.v1.ActivityService/GetMeetingStatistics"
	crossTab   = "/nrm.reporting.v1.ActivityService/GetCaseCrossTab"
	decisions  = "/nrm.reporting.v1.DecisionStatisticsService/GetDecisionStatistics"
	eurostat   = "/nrm.reporting.v1.PublicationService/GetEurostatTables"
	sdg        = "/nrm.reporting.v1.PublicationService/GetSdgIndicator"
	caseLevel  = "/nrm.reporting.v1.PublicationService/ExportCaseLevelFile"
	auditList  = "/nrm.audit.v1.AuditService/ListAuditRecords"
	auditCheck = "/nrm.audit.v1.AuditService/VerifyAuditChain"
	erase      = "/nrm.caseregistry.v1.CaseRegistryService/EraseIdentity"
	duplicates = "/nrm.caseregistry.v1.CaseRegistryService/FindPossibleDuplicates"
	listCases  = "/nrm.caseregistry.v1.CaseRegistryService/ListCases"
	grant      = "/nrm.caseregistry.v1.CaseRegistryService/GrantIdentityAccess"
	revoke     = "/nrm.caseregistry.v1.CaseRegistryService/RevokeIdentityAccess"
	update     = "/nrm.caseregistry.v1.CaseRegistryService/UpdateCase"
	decide     = "/nrm.caseregistry.v1.CaseRegistryService/DecideStatus"
	closeCase  = "/nrm.caseregistry.v1.CaseRegistryService/CloseCase"
	reopen     = "/nrm.caseregistry.v1.CaseRegistryService/ReopenCase"
	consent    = "/nrm.caseregistry.v1.CaseRegistryService/RecordConsent"
	merge      = "/nrm.caseregistry.v1.CaseRegistryService/MergeCases"
	history    = "/nrm.caseregistry.v1.CaseRegistryService/ListCaseHistory"

	institutions    = "/nrm.secretariat.v1.AccessService/ListInstitutions"
	registerInst    = "/nrm.secretariat.v1.AccessService/RegisterInstitution"
	deactivate      = "/nrm.secretariat.v1.AccessService/DeactivateInstitution"
	activate        = "/nrm.secretariat.v1.AccessService/ActivateInstitution"
	revokeToken     = "/nrm.secretariat.v1.AccessService/RevokeToken"
	revokeSubject   = "/nrm.secretariat.v1.AccessService/RevokeSubject"
	listRevocations = "/nrm.secretariat.v1.AccessService/ListRevocations"

	registerLetter = "/nrm.secretariat.v1.CorrespondenceService/RegisterLetter"
	getLetter      = "/nrm.secretariat.v1.CorrespondenceService/GetLetter"
	listLetters    = "/nrm.secretariat.v1.CorrespondenceService/ListLetters"
	attachment     = "/nrm.secretariat.v1.CorrespondenceService/GetLetterAttachment"
)

// The decision for every (role, institution, method): the table as the Authority's members
// would read it.
func TestWhoMayCallWhat(t *testing.T) {
	type who struct {
		name string
		p    *auth.Principal
	}
	var (
		chair       = who{"chair", principal("MB-DPAM", auth.RoleChair, auth.RoleMember)}
		secretariat = who{"secretariat", principal("MB-SEKRETARIATI", auth.RoleSecretariat)}
		police      = who{"police caseworker", principal("ASP-ANTITRAF", auth.RoleCaseworker, auth.RoleMember)}
		shelter     = who{"shelter caseworker", principal("KKSAT", auth.RoleCaseworker, auth.RoleMember)}
		member      = who{"member", principal("MAS", auth.RoleMember)}
		analyst     = who{"analyst", principal("MB-DPAM", auth.RoleAnalyst)}
		auditor     = who{"auditor", principal("MB-DPAM", auth.RoleAuditor)}
		operator    = who{"operator", principal("MB-DPAM", auth.RoleOperator)}
		service     = who{"service alone", principal("NRM", auth.RoleService)}
	)
	everyone := []who{chair, secretariat, police, shelter, member, analyst, auditor, operator, service}
	allowed := map[string][]who{
		register:   {chair, secretariat, police, shelter},
		getCase:    {chair, secretariat, police, shelter, member},
		members:    {chair, secretariat, police, shelter, member, analyst, auditor, operator},
		services:   {chair, secretariat, police, shelter, member, analyst, auditor, operator},
		providers:  {chair, secretariat, police, shelter, member},
		provider:   {chair, secretariat, police, shelter, member},
		addProv:    {chair, secretariat},
		changeProv: {chair, secretariat},
		places:     {chair, secretariat, police, shelter, member},
		refer:      {chair, secretariat, police, shelter},
		referral:   {chair, secretariat, police, shelter, member},
		caseRefs:   {chair, secretariat, police, shelter, member},
		listRefs:   {chair, secretariat, police, shelter, member},
		accept:     {chair, secretariat, police, shelter},
		decline:    {chair, secretariat, police, shelter},
		cancel:     {chair, secretariat, police, shelter},
		complete:   {chair, secretariat, police, shelter},
		delivered:  {chair, secretariat, police, shelter},
		statistics: {chair, secretariat, police, shelter, member, analyst},
		refStats:   {chair, secretariat, police, shelter, member, analyst},
		meetStats:  {chair, secretariat, police, shelter, member, analyst},
		crossTab:   {chair, secretariat, police, shelter, member, analyst},
		decisions:  {chair, secretariat, police, shelter, member, analyst},
		eurostat:   {chair, secretariat, police, shelter, member, analyst},
		sdg:        {chair, secretariat, police, shelter, member, analyst},
		caseLevel:  {chair, secretariat, police, shelter, member, analyst},
		auditList:  {auditor},
		auditCheck: {auditor, operator},
		erase:      {chair, secretariat},
		duplicates: {chair, secretariat, police, shelter},
		listCases:  {chair, secretariat, police, shelter, member},
		grant:      {chair, secretariat},
		revoke:     {chair, secretariat},
		update:     {chair, secretariat, police, shelter},
		decide:     {chair, secretariat, police, shelter},
		closeCase:  {chair, secretariat, police, shelter},
		reopen:     {chair, secretariat, police, shelter},
		consent:    {chair, secretariat, police, shelter},
		merge:      {chair, secretariat},
		history:    {chair, secretariat, police, shelter, member},

		institutions:    {chair, secretariat, police, shelter, member, analyst, auditor, operator},
		registerInst:    {chair, secretariat},
		deactivate:      {chair, secretariat},
		activate:        {chair, secretariat},
		revokeToken:     {chair, secretariat, operator},
		revokeSubject:   {chair, secretariat, operator},
		listRevocations: {chair, secretariat, operator, auditor},

		// A member reads the register but does not register letters.
		registerLetter: {chair, secretariat},
		getLetter:      {chair, secretariat, police, shelter, member},
		listLetters:    {chair, secretariat, police, shelter, member},
		attachment:     {chair, secretariat, police, shelter, member},

		// Meetings: members read and reply (for their own institution: the service checks), the
		// chair and the secretariat manage; analysts see the monthly compliance too.
		"/nrm.secretariat.v1.MeetingService/ScheduleMeeting":           {chair, secretariat},
		"/nrm.secretariat.v1.MeetingService/SendInvitations":           {chair, secretariat},
		"/nrm.secretariat.v1.MeetingService/PostponeMeeting":           {chair, secretariat},
		"/nrm.secretariat.v1.MeetingService/CancelMeeting":             {chair, secretariat},
		"/nrm.secretariat.v1.MeetingService/AddAgendaItem":             {chair, secretariat},
		"/nrm.secretariat.v1.MeetingService/MoveAgendaItem":            {chair, secretariat},
		"/nrm.secretariat.v1.MeetingService/DropAgendaItem":            {chair, secretariat},
		"/nrm.secretariat.v1.MeetingService/RecordAttendance":          {chair, secretariat},
		"/nrm.secretariat.v1.MeetingService/OpenMeeting":               {chair, secretariat},
		"/nrm.secretariat.v1.MeetingService/RecordDecision":            {chair, secretariat},
		"/nrm.secretariat.v1.MeetingService/CloseMeeting":              {chair, secretariat},
		"/nrm.secretariat.v1.MeetingService/DraftMinutes":              {chair, secretariat},
		"/nrm.secretariat.v1.MeetingService/AmendMinutes":              {chair, secretariat},
		"/nrm.secretariat.v1.MeetingService/CirculateMinutes":          {chair, secretariat},
		"/nrm.secretariat.v1.MeetingService/ApproveMinutes":            {chair, secretariat},
		"/nrm.secretariat.v1.MeetingService/GetMeeting":                {chair, secretariat, police, shelter, member},
		"/nrm.secretariat.v1.MeetingService/ListMeetings":              {chair, secretariat, police, shelter, member},
		"/nrm.secretariat.v1.MeetingService/ReplyToInvitation":         {chair, secretariat, police, shelter, member},
		"/nrm.secretariat.v1.MeetingService/GetAgenda":                 {chair, secretariat, police, shelter, member},
		"/nrm.secretariat.v1.MeetingService/ListAgendaBacklog":         {chair, secretariat, police, shelter, member},
		"/nrm.secretariat.v1.MeetingService/ExportMinutes":             {chair, secretariat, police, shelter, member},
		"/nrm.secretariat.v1.MeetingService/ListActionItems":           {chair, secretariat, police, shelter, member},
		"/nrm.secretariat.v1.MeetingService/CompleteActionItem":        {chair, secretariat, police, shelter, member},
		"/nrm.secretariat.v1.MeetingService/ListNotifications":         {chair, secretariat, police, shelter, member},
		"/nrm.secretariat.v1.MeetingService/GetCompliance":             {chair, secretariat, police, shelter, member, analyst},
		"/nrm.secretariat.v1.SecretariatService/GetRulesOfProcedure":   {chair, secretariat, police, shelter, member, analyst, auditor, operator},
		"/nrm.secretariat.v1.SecretariatService/ListRulesOfProcedure":  {chair, secretariat, police, shelter, member, analyst, auditor, operator},
		"/nrm.secretariat.v1.SecretariatService/AdoptRulesOfProcedure": {chair, secretariat},
		"/nrm.secretariat.v1.SecretariatService/ListRepresentations":   {chair, secretariat, police, shelter, member},
		"/nrm.secretariat.v1.SecretariatService/SetRepresentation":     {chair, secretariat},

		// The report: the stewards draft, circulate and submit; members (the chair is one)
		// approve or return for their own institution (the service checks); readers of
		// aggregates read it.
		"/nrm.reporting.v1.ReportService/DraftReport":     {chair, secretariat},
		"/nrm.reporting.v1.ReportService/CirculateReport": {chair, secretariat},
		"/nrm.reporting.v1.ReportService/SubmitReport":    {chair, secretariat},
		"/nrm.reporting.v1.ReportService/ApproveReport":   {chair, police, shelter, member},
		"/nrm.reporting.v1.ReportService/ReturnReport":    {chair, police, shelter, member},
		"/nrm.reporting.v1.ReportService/GetReport":       {chair, secretariat, police, shelter, member, analyst},
		"/nrm.reporting.v1.ReportService/ListReports":     {chair, secretariat, police, shelter, member, analyst},
		"/nrm.reporting.v1.ReportService/ExportTables":    {chair, secretariat, police, shelter, member, analyst},
		"/nrm.reporting.v1.ReportService/ExportReport":    {chair, secretariat, police, shelter, member, analyst, service}, // the secretariat mails it
		// Data reported by members: everyone who reads statistics reads them; members submit (their
		// own institution's: the service checks) and so does the secretariat; the stewards change
		// the forms and reopen a locked month.
		"/nrm.reporting.v1.DataSetService/ListDataSets":     {chair, secretariat, police, shelter, member, analyst},
		"/nrm.reporting.v1.DataSetService/GetDataSet":       {chair, secretariat, police, shelter, member, analyst},
		"/nrm.reporting.v1.DataSetService/GetSubmission":    {chair, secretariat, police, shelter, member, analyst},
		"/nrm.reporting.v1.DataSetService/GetCompleteness":  {chair, secretariat, police, shelter, member, analyst},
		"/nrm.reporting.v1.DataSetService/SubmitData":       {chair, secretariat, police, shelter, member},
		"/nrm.reporting.v1.DataSetService/UpdateDataSet":    {chair, secretariat},
		"/nrm.reporting.v1.DataSetService/ReopenSubmission": {chair, secretariat},
	}
	if len(allowed) != len(Table) {
		t.Fatalf("the test covers %d methods, the table has %d", len(allowed), len(Table))
	}
	for method, yes := range allowed {
		for _, w := range everyone {
			want := slices.ContainsFunc(yes, func(y who) bool { return y.name == w.name })
			t.Run(w.name+" "+method, func(t *testing.T) {
				ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs(PurposeKey, "case-management"))
				_, err := guardFor(w.p).Admit(ctx, method)
				switch {
				case want && err != nil:
					t.Errorf("refused: %v", err)
				case !want && status.Code(err) != codes.PermissionDenied:
					t.Errorf("got %v, want PermissionDenied", err)
				}
			})
		}
	}
}

func TestUnauthenticatedCallersAreRefusedEverywhereButHealth(t *testing.T) {
	g := guardFor(nil)
	for m := range Table {
		if _, err := g.Admit(context.Background(), m); status.Code(err) != codes.Unauthenticated {
			t.Errorf("%s without credentials: %v, want Unauthenticated", m, err)
		}
	}
	if _, err := g.Admit(context.Background(), "/grpc.health.v1.Health/Check"); err != nil {
		t.Errorf("health check refused: %v", err)
	}
	reflection := "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
	if _, err := g.Admit(context.Background(), reflection); status.Code(err) != codes.Unauthenticated {
		t.Errorf("reflection open while disabled: %v", err)
	}
	g.Reflection = true
	if _, err := g.Admit(context.Background(), reflection); err != nil {
		t.Errorf("reflection refused while enabled: %v", err)
	}
}

func TestMethodsOutsideTheTableAreRefused(t *testing.T) {
	_, err := guardFor(principal("MB-DPAM", DocRoles...)).Admit(context.Background(), "/nrm.caseregistry.v1.CaseRegistryService/DropEverything")
	if status.Code(err) != codes.PermissionDenied {
		t.Errorf("got %v, want PermissionDenied", err)
	}
}

// A service calling on someone's behalf gets that caller's rights, not its own.
func TestOnBehalfOfUsesTheOriginalCallersRoles(t *testing.T) {
	svc := principal("NRM", auth.RoleService)
	svc.OnBehalfOf = principal("MB-DPAM", auth.RoleAnalyst)
	g := guardFor(svc)
	if _, err := g.Admit(context.Background(), statistics); err != nil {
		t.Errorf("analyst via a service refused statistics: %v", err)
	}
	if _, err := g.Admit(context.Background(), register); status.Code(err) != codes.PermissionDenied {
		t.Errorf("analyst via a service may register cases: %v", err)
	}
}

func TestPurposeIsRequiredWhereTheTableSaysSo(t *testing.T) {
	g := guardFor(principal("ASP-ANTITRAF", auth.RoleCaseworker))
	if _, err := g.Admit(context.Background(), duplicates); status.Code(err) != codes.InvalidArgument {
		t.Errorf("a duplicate search without a purpose: %v, want InvalidArgument", err)
	}
	if _, err := g.Admit(context.Background(), getCase); err != nil {
		t.Errorf("GetCase without a purpose refused (it withholds the identity instead): %v", err)
	}
}

// The guard refuses a purpose outside the list wherever it is sent, and hands the one it
// admits, parsed, to the handler and the audit recorder.
func TestGuardChecksThePurposeAndPassesItOn(t *testing.T) {
	g := guardFor(principal("ASP-ANTITRAF", auth.RoleCaseworker))
	for _, m := range []string{getCase, duplicates, register} {
		if _, err := g.Admit(incoming("referral of Arta Hoxha"), m); status.Code(err) != codes.InvalidArgument || !violates(err, PurposeKey) {
			t.Errorf("%s with a free-text purpose: %v, want InvalidArgument on %s", m, err, PurposeKey)
		}
	}
	ctx, err := g.Admit(incoming("referral;ref=REF-2026-0042"), getCase)
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := StatedPurpose(ctx); !ok || p.Code != "referral" || p.Ref != "REF-2026-0042" {
		t.Errorf("stated purpose %+v, %v", p, ok)
	}
	ctx, err = g.Admit(context.Background(), getCase)
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := StatedPurpose(ctx); ok {
		t.Errorf("a purpose %+v where none was stated", p)
	}
}

// What a handler notes reaches the recorder through the admitted context, and only there.
func TestNotedObjectsStayWithTheirCall(t *testing.T) {
	g := guardFor(principal("ASP-ANTITRAF", auth.RoleCaseworker))
	a, err := g.Admit(context.Background(), register)
	if err != nil {
		t.Fatal(err)
	}
	b, err := g.Admit(context.Background(), register)
	if err != nil {
		t.Fatal(err)
	}
	NoteObjects(a, "0192f0c1-7d5e-7a31-9c4b-2f1e8d6a5b40")
	NoteObjects(context.Background(), "ignored outside a call")
	if got := notedObjects(a); !slices.Equal(got, []string{"0192f0c1-7d5e-7a31-9c4b-2f1e8d6a5b40"}) {
		t.Errorf("noted %v", got)
	}
	if got := notedObjects(b); len(got) != 0 {
		t.Errorf("another call's notes leaked: %v", got)
	}
}
