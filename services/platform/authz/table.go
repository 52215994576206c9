// Package authz decides whether an authenticated caller may call a method. One table holds a
// rule for every RPC of every service; a method without a rule is refused (deny by default), and
// a test walks every method of the API so that a new RPC cannot ship without one.
package authz

import (
	"slices"

	auditv1 "github.com/nrm-albania/nrm/proto/nrm/audit/v1"
	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"
	reportingv1 "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
	secretariatv1 "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
	"github.com/nrm-albania/nrm/services/platform/auth"
)

// Audit says what trail a call leaves.
type Audit int

const (
	// NoAudit: the call neither changes anything nor reads personal data.
	NoAudit Audit = iota
	// AuditChange: the call changes state; recorded with its outcome.
	AuditChange
	// AuditRead: the call reads data about a person; recorded before the data leaves the
	// service, and the call fails if the record cannot be written.
	AuditRead
)

// Rule says who may call one method and what trail the call leaves.
type Rule struct {
	// Roles that may call the method; the effective principal (the original caller when a
	// service calls on someone's behalf) needs one of them.
	Roles []auth.Role
	Audit Audit
	// PurposeRequired refuses the call unless it states why (x-nrm-purpose).
	PurposeRequired bool
}

var (
	staff      = []auth.Role{auth.RoleChair, auth.RoleSecretariat, auth.RoleMember, auth.RoleCaseworker}
	everyone   = []auth.Role{auth.RoleChair, auth.RoleSecretariat, auth.RoleMember, auth.RoleCaseworker, auth.RoleAnalyst, auth.RoleAuditor, auth.RoleOperator}
	registrars = []auth.Role{auth.RoleChair, auth.RoleSecretariat, auth.RoleCaseworker}
	aggregates = []auth.Role{auth.RoleChair, auth.RoleSecretariat, auth.RoleMember, auth.RoleAnalyst}
	auditors   = []auth.Role{auth.RoleAuditor}
	stewards   = []auth.Role{auth.RoleChair, auth.RoleSecretariat}
	// reporters submit the members' monthly data: each member its own, the secretariat any.
	reporters = []auth.Role{auth.RoleSecretariat, auth.RoleMember}
	// authority are the Authority's own people: its members' staff, the chair and the secretariat.
	authority   = []auth.Role{auth.RoleChair, auth.RoleSecretariat, auth.RoleMember}
	chainChecks = []auth.Role{auth.RoleAuditor, auth.RoleOperator}
	// approvers answer for a member institution: its members' people, the chair among them.
	approvers = []auth.Role{auth.RoleMember}
	// A stolen credential is an incident: the operator on call may revoke it, not only the
	// Authority's stewards.
	revokers = []auth.Role{auth.RoleChair, auth.RoleSecretariat, auth.RoleOperator}
)

// Table is the permission table of the whole system, keyed by full gRPC method name.
// docs/security.md shows it as a role × method table; a test keeps the two equal.
var Table = map[string]Rule{
	caseregistryv1.CaseRegistryService_RegisterCase_FullMethodName: {Roles: registrars, Audit: AuditChange},
	caseregistryv1.CaseRegistryService_GetCase_FullMethodName:      {Roles: staff, Audit: AuditRead},
	caseregistryv1.CaseRegistryService_ListCases_FullMethodName:    {Roles: staff, Audit: AuditRead},
	// Whether a person is in the database is itself sensitive: recorded, and only with a purpose.
	caseregistryv1.CaseRegistryService_FindPossibleDuplicates_FullMethodName: {Roles: registrars, Audit: AuditRead, PurposeRequired: true},
	// Involving another institution, and erasure, are the Authority's decisions, carried out by its
	// chair or secretariat.
	caseregistryv1.CaseRegistryService_GrantIdentityAccess_FullMethodName:  {Roles: stewards, Audit: AuditChange},
	caseregistryv1.CaseRegistryService_RevokeIdentityAccess_FullMethodName: {Roles: stewards, Audit: AuditChange},
	caseregistryv1.CaseRegistryService_EraseIdentity_FullMethodName:        {Roles: stewards, Audit: AuditChange},
	// Changes of a case: the service also checks that the caller's institution is involved in it
	// (its owner, the chair, the secretariat, or granted access).
	caseregistryv1.CaseRegistryService_UpdateCase_FullMethodName:    {Roles: registrars, Audit: AuditChange},
	caseregistryv1.CaseRegistryService_DecideStatus_FullMethodName:  {Roles: registrars, Audit: AuditChange},
	caseregistryv1.CaseRegistryService_CloseCase_FullMethodName:     {Roles: registrars, Audit: AuditChange},
	caseregistryv1.CaseRegistryService_ReopenCase_FullMethodName:    {Roles: registrars, Audit: AuditChange},
	caseregistryv1.CaseRegistryService_RecordConsent_FullMethodName: {Roles: registrars, Audit: AuditChange},
	// Joining two records is a decision on two people's files: the chair's or the secretariat's.
	caseregistryv1.CaseRegistryService_MergeCases_FullMethodName: {Roles: stewards, Audit: AuditChange},
	// The history names no person, but says who worked on whose case: recorded.
	caseregistryv1.CaseRegistryService_ListCaseHistory_FullMethodName: {Roles: staff, Audit: AuditRead},

	referralv1.ReferralService_ListServiceTypes_FullMethodName: {Roles: everyone},
	// The providers' directory names institutions, never a person: readable by staff, kept by the
	// Authority's stewards; a shelter records its own places (the service checks it is its own).
	referralv1.ReferralService_ListProviders_FullMethodName:          {Roles: staff},
	referralv1.ReferralService_GetProvider_FullMethodName:            {Roles: staff},
	referralv1.ReferralService_RegisterProvider_FullMethodName:       {Roles: stewards, Audit: AuditChange},
	referralv1.ReferralService_UpdateProvider_FullMethodName:         {Roles: stewards, Audit: AuditChange},
	referralv1.ReferralService_UpdateProviderCapacity_FullMethodName: {Roles: staff, Audit: AuditChange},
	// Referrals: the service also checks that the caller's institution is the sender or the
	// recipient (or a steward), and shows the free text only with a stated purpose.
	referralv1.ReferralService_CreateReferral_FullMethodName:         {Roles: registrars, Audit: AuditChange},
	referralv1.ReferralService_GetReferral_FullMethodName:            {Roles: staff, Audit: AuditRead},
	referralv1.ReferralService_ListCaseReferrals_FullMethodName:      {Roles: staff, Audit: AuditRead},
	referralv1.ReferralService_ListReferrals_FullMethodName:          {Roles: staff, Audit: AuditRead},
	referralv1.ReferralService_AcceptReferral_FullMethodName:         {Roles: registrars, Audit: AuditChange},
	referralv1.ReferralService_DeclineReferral_FullMethodName:        {Roles: registrars, Audit: AuditChange},
	referralv1.ReferralService_CancelReferral_FullMethodName:         {Roles: registrars, Audit: AuditChange},
	referralv1.ReferralService_CompleteReferral_FullMethodName:       {Roles: registrars, Audit: AuditChange},
	referralv1.ReferralService_RecordServiceDelivered_FullMethodName: {Roles: registrars, Audit: AuditChange},

	secretariatv1.SecretariatService_ListMembers_FullMethodName: {Roles: everyone},
	// The composition and the rules of procedure: everyone reads, the chair and the secretariat
	// record the Authority's decisions.
	secretariatv1.SecretariatService_GetRulesOfProcedure_FullMethodName:   {Roles: everyone},
	secretariatv1.SecretariatService_ListRulesOfProcedure_FullMethodName:  {Roles: everyone},
	secretariatv1.SecretariatService_AdoptRulesOfProcedure_FullMethodName: {Roles: stewards, Audit: AuditChange},
	secretariatv1.SecretariatService_ListRepresentations_FullMethodName:   {Roles: authority},
	secretariatv1.SecretariatService_SetRepresentation_FullMethodName:     {Roles: stewards, Audit: AuditChange},
	// Meetings: members read and reply for their own institution (the service checks which), the
	// chair and the secretariat manage.
	secretariatv1.MeetingService_ScheduleMeeting_FullMethodName:    {Roles: stewards, Audit: AuditChange},
	secretariatv1.MeetingService_GetMeeting_FullMethodName:         {Roles: authority},
	secretariatv1.MeetingService_ListMeetings_FullMethodName:       {Roles: authority},
	secretariatv1.MeetingService_SendInvitations_FullMethodName:    {Roles: stewards, Audit: AuditChange},
	secretariatv1.MeetingService_ReplyToInvitation_FullMethodName:  {Roles: authority, Audit: AuditChange},
	secretariatv1.MeetingService_PostponeMeeting_FullMethodName:    {Roles: stewards, Audit: AuditChange},
	secretariatv1.MeetingService_CancelMeeting_FullMethodName:      {Roles: stewards, Audit: AuditChange},
	secretariatv1.MeetingService_GetAgenda_FullMethodName:          {Roles: authority},
	secretariatv1.MeetingService_AddAgendaItem_FullMethodName:      {Roles: stewards, Audit: AuditChange},
	secretariatv1.MeetingService_MoveAgendaItem_FullMethodName:     {Roles: stewards, Audit: AuditChange},
	secretariatv1.MeetingService_DropAgendaItem_FullMethodName:     {Roles: stewards, Audit: AuditChange},
	secretariatv1.MeetingService_ListAgendaBacklog_FullMethodName:  {Roles: authority},
	secretariatv1.MeetingService_RecordAttendance_FullMethodName:   {Roles: stewards, Audit: AuditChange},
	secretariatv1.MeetingService_OpenMeeting_FullMethodName:        {Roles: stewards, Audit: AuditChange},
	secretariatv1.MeetingService_RecordDecision_FullMethodName:     {Roles: stewards, Audit: AuditChange},
	secretariatv1.MeetingService_CloseMeeting_FullMethodName:       {Roles: stewards, Audit: AuditChange},
	secretariatv1.MeetingService_DraftMinutes_FullMethodName:       {Roles: stewards, Audit: AuditChange},
	secretariatv1.MeetingService_AmendMinutes_FullMethodName:       {Roles: stewards, Audit: AuditChange},
	secretariatv1.MeetingService_CirculateMinutes_FullMethodName:   {Roles: stewards, Audit: AuditChange},
	secretariatv1.MeetingService_ApproveMinutes_FullMethodName:     {Roles: stewards, Audit: AuditChange},
	secretariatv1.MeetingService_ExportMinutes_FullMethodName:      {Roles: authority},
	secretariatv1.MeetingService_ListActionItems_FullMethodName:    {Roles: authority},
	secretariatv1.MeetingService_CompleteActionItem_FullMethodName: {Roles: authority, Audit: AuditChange},
	secretariatv1.MeetingService_GetCompliance_FullMethodName:      {Roles: aggregates},
	secretariatv1.MeetingService_ListNotifications_FullMethodName:  {Roles: authority},
	// Which institutions may call at all is the Authority's composition, kept by its stewards.
	secretariatv1.AccessService_ListInstitutions_FullMethodName:      {Roles: everyone},
	secretariatv1.AccessService_RegisterInstitution_FullMethodName:   {Roles: stewards, Audit: AuditChange},
	secretariatv1.AccessService_DeactivateInstitution_FullMethodName: {Roles: stewards, Audit: AuditChange},
	secretariatv1.AccessService_ActivateInstitution_FullMethodName:   {Roles: stewards, Audit: AuditChange},
	secretariatv1.AccessService_RevokeToken_FullMethodName:           {Roles: revokers, Audit: AuditChange},
	secretariatv1.AccessService_RevokeSubject_FullMethodName:         {Roles: revokers, Audit: AuditChange},
	secretariatv1.AccessService_ListRevocations_FullMethodName:       {Roles: append(slices.Clone(revokers), auth.RoleAuditor)},
	// The correspondence register is the Authority's: its members read it, its stewards keep it.
	// Subjects and attachments may name people, so reads are recorded; auditors see in the trail
	// who read which letter, and need not read the letters themselves.
	secretariatv1.CorrespondenceService_RegisterLetter_FullMethodName:      {Roles: stewards, Audit: AuditChange},
	secretariatv1.CorrespondenceService_GetLetter_FullMethodName:           {Roles: authority, Audit: AuditRead},
	secretariatv1.CorrespondenceService_ListLetters_FullMethodName:         {Roles: authority, Audit: AuditRead},
	secretariatv1.CorrespondenceService_GetLetterAttachment_FullMethodName: {Roles: authority, Audit: AuditRead},

	reportingv1.ReportingService_GetCaseStatistics_FullMethodName: {Roles: aggregates},
	// The periodic report: the stewards draft, circulate and submit it; every member approves or
	// returns it, for its own institution only (the service checks); it holds aggregates only.
	reportingv1.ReportService_DraftReport_FullMethodName:     {Roles: stewards, Audit: AuditChange},
	reportingv1.ReportService_CirculateReport_FullMethodName: {Roles: stewards, Audit: AuditChange},
	reportingv1.ReportService_SubmitReport_FullMethodName:    {Roles: stewards, Audit: AuditChange},
	reportingv1.ReportService_ApproveReport_FullMethodName:   {Roles: approvers, Audit: AuditChange},
	reportingv1.ReportService_ReturnReport_FullMethodName:    {Roles: approvers, Audit: AuditChange},
	reportingv1.ReportService_ExportTables_FullMethodName:    {Roles: aggregates},
	reportingv1.ReportService_GetReport_FullMethodName:       {Roles: aggregates},
	reportingv1.ReportService_ListReports_FullMethodName:     {Roles: aggregates},
	// The secretariat's service fetches the submitted report's PDF to mail it to the Ministry.
	reportingv1.ReportService_ExportReport_FullMethodName: {Roles: append(slices.Clone(aggregates), auth.RoleService), Audit: AuditRead},
	// The data reported by members: counts of each institution's work, read like the statistics.
	// A member submits its own institution's figures (the service checks), the secretariat any
	// member's; the forms and the reopening of a locked month are the stewards'.
	reportingv1.DataSetService_ListDataSets_FullMethodName:           {Roles: aggregates},
	reportingv1.DataSetService_GetDataSet_FullMethodName:             {Roles: aggregates},
	reportingv1.DataSetService_GetSubmission_FullMethodName:          {Roles: aggregates},
	reportingv1.DataSetService_GetCompleteness_FullMethodName:        {Roles: aggregates},
	reportingv1.DataSetService_SubmitData_FullMethodName:             {Roles: reporters, Audit: AuditChange},
	reportingv1.DataSetService_UpdateDataSet_FullMethodName:          {Roles: stewards, Audit: AuditChange},
	reportingv1.DataSetService_ReopenSubmission_FullMethodName:       {Roles: stewards, Audit: AuditChange},
	reportingv1.ActivityService_GetReferralStatistics_FullMethodName: {Roles: aggregates},
	reportingv1.ActivityService_GetMeetingStatistics_FullMethodName:  {Roles: aggregates},
	reportingv1.ActivityService_GetCaseCrossTab_FullMethodName:       {Roles: aggregates},
	// Decisions and closures over a period: aggregates, as GetCaseStatistics.
	reportingv1.DecisionStatisticsService_GetDecisionStatistics_FullMethodName: {Roles: aggregates},
	// Publications are suppressed figures, for whoever reads aggregates; exact counts only for
	// ExactCounts, which the service checks.
	reportingv1.PublicationService_GetEurostatTables_FullMethodName:   {Roles: aggregates},
	reportingv1.PublicationService_GetSdgIndicator_FullMethodName:     {Roles: aggregates},
	reportingv1.PublicationService_ExportCaseLevelFile_FullMethodName: {Roles: aggregates},

	// Reading the trail says who looked at whose case: it is itself recorded.
	auditv1.AuditService_ListAuditRecords_FullMethodName: {Roles: auditors, Audit: AuditRead},
	auditv1.AuditService_VerifyAuditChain_FullMethodName: {Roles: chainChecks, Audit: AuditRead},
}

// ExactCounts may ask the publications for exact, unsuppressed counts (docs/decisions.md 34): the
// chair and the secretariat, who prepare what the Authority publishes, and analysts, whose work it
// is. Members get the figures as published: what they take away may be passed on.
var ExactCounts = []auth.Role{auth.RoleChair, auth.RoleSecretariat, auth.RoleAnalyst}

// Open lists the methods any caller may use without credentials: health checks, which
// orchestrators and load balancers call.
var Open = map[string]bool{
	"/grpc.health.v1.Health/Check": true,
	"/grpc.health.v1.Health/Watch": true,
	"/grpc.health.v1.Health/List":  true,
}

// Reflection lists the reflection methods, open when a service enables reflection: they reveal
// the API's shape, which the OpenAPI document publishes anyway, and nothing of the data.
var Reflection = map[string]bool{
	"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo":      true,
	"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": true,
}
