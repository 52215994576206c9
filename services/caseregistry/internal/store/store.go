// Package store keeps cases in the registry's own MongoDB database.
//
// Cases are the platform's revisioned aggregates (aggregate.Store, named "case"): every change is
// committed by inserting a revision, _id "<case id>@<version>", that holds the case as the change
// left it, who made the change, and its events; the case document, _id the case id, is then
// brought up to the latest revision. Reads by id read it, and lists find it through the list
// index (list.go). The revisions are the case's history. The identity's data key lives apart,
// in the key vault (KeyCollection, a keyvault.Vault), so that destroying it destroys the identity in every revision at
// once.
package store

import (
	"sync"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/nrm-albania/nrm/services/caseregistry/internal/domain"
	"github.com/nrm-albania/nrm/services/platform/aggregate"
	"github.com/nrm-albania/nrm/services/platform/journal"
	"github.com/nrm-albania/nrm/services/platform/keyvault"
)

// Collection holds the cases, each at its latest version.
const Collection = "cases"

// KeyCollection is the key vault of the cases' identities, one data key per case (keyvault):
// destroying a case's key erases its identity in every revision at once.
const KeyCollection = "case_keys"

// ErrNotFound means no case has the id (or, from the vault, no data key).
var ErrNotFound = aggregate.ErrNotFound

// ErrExists means a case with the id already exists; Create returns it alongside.
var ErrExists = aggregate.ErrExists

// ErrConflict means another writer committed the version first.
var ErrConflict = aggregate.ErrConflict

// Store is the registry's persistence. The cases themselves are an aggregate.Store: Create,
// Get, Current, Commit, History and Execute are its.
type Store struct {
	*aggregate.Store[domain.Case, Change]
	// Vault holds the cases' data keys (KeyCollection): StoreKey, Key, DestroyKey, RewrapKeys, … .
	*keyvault.Vault
	db    *mongo.Database
	cases *mongo.Collection
	list  *journal.Journal[block, Listed]
	// referralAccess keeps the identity access that referrals give their recipients.
	referralAccess *journal.Journal[referralAccess, ReferralGrant]
	listYears      *mongo.Collection
	// yearsRecorded holds the years this process knows are in listYears.
	yearsRecorded sync.Map
	// Codes hands out the cases' human-readable codes.
	Codes *Codes
}

// New returns a store over db.
func New(db *mongo.Database) *Store {
	s := &Store{
		Store: aggregate.New[domain.Case, Change](db, aggregate.Spec{Name: "case"}),
		Vault: keyvault.New(db, KeyCollection),
		db:    db, cases: db.Collection(Collection), listYears: db.Collection(ListYearCollection),
		Codes: NewCodes(db),
	}
	s.list = journal.New(db, ListCollection, ListJournalCollection, withCase)
	s.referralAccess = newReferralAccess(s)
	return s
}
