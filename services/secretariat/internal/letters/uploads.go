package letters

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/nrm-albania/nrm/services/platform/mongodb"
)

// Upload is a registration whose files are stored before its letter (PutFiles): kept until the
// letter is registered (Settle) or the sweep finds it never was (Sweep), so that no attachment,
// which may say anything of anyone, stays behind unread and unowned.
type Upload struct {
	ID    string `bson:"_id"`
	Files int    `bson:"files"`
	// Year and After are the letter's year and that year's last number when the files were
	// stored: its letter, if any, is numbered after.
	Year      int       `bson:"year"`
	After     int64     `bson:"after"`
	CreatedAt time.Time `bson:"created_at"`
}

// PutFiles stores the content of a registration's attachments, for a letter of year. It runs
// before the letter is registered, under the registration rather than the protocol number (which
// only the commit decides), so that a registered letter always has its files; the upload is
// recorded first, so that the sweep finds the files should the letter never come. A file already
// there is a retry's: the registration is keyed and its request was the same.
func (s *Store) PutFiles(ctx context.Context, registration string, year int, files [][]byte, at time.Time) error {
	if len(files) == 0 {
		return nil
	}
	after, err := s.Last(ctx, year)
	if err != nil {
		return err
	}
	u := Upload{ID: registration, Files: len(files), Year: year, After: after, CreatedAt: at.UTC().Truncate(time.Millisecond)}
	if err := mongodb.Claim(ctx, s.uploads, u); err != nil && !errors.Is(err, mongodb.ErrTaken) {
		return fmt.Errorf("record the upload of registration %s: %w", registration, err)
	}
	for i, data := range files {
		err := mongodb.Claim(ctx, s.files, File{ID: fileID(registration, i), Data: data, SHA256: Hash(data)})
		if err != nil && !errors.Is(err, mongodb.ErrTaken) {
			return fmt.Errorf("store attachment %d of registration %s: %w", i, registration, err)
		}
	}
	return nil
}

// Settle records that registration's letter is registered: its files are the letter's. Should
// it fail, the sweep finds the letter and settles it all the same.
func (s *Store) Settle(ctx context.Context, registration string) error {
	_, err := s.uploads.DeleteOne(ctx, bson.D{{Key: "_id", Value: registration}})
	return mongodb.Classify(err)
}

// Sweep settles the uploads made before before: those whose letter is registered are settled,
// and the files of the others, registrations that stopped before their commit, are deleted. It
// returns how many registrations' files it deleted. before must be far enough back that no
// registration begun then can still commit (a request's deadline is seconds): the sweep would
// otherwise take a letter's files from under it. The uploads kept are only those not settled,
// a few at most, so the collection is read whole.
func (s *Store) Sweep(ctx context.Context, before time.Time) (int, error) {
	cur, err := s.uploads.Find(ctx, bson.D{})
	if err != nil {
		return 0, fmt.Errorf("read the uploads: %w", mongodb.Classify(err))
	}
	var uploads []Upload
	if err := cur.All(ctx, &uploads); err != nil {
		return 0, fmt.Errorf("read the uploads: %w", mongodb.Classify(err))
	}
	deleted := 0
	var errs []error
	for _, u := range uploads {
		if !u.CreatedAt.Before(before) {
			continue
		}
		_, registered, err := s.registeredAfter(ctx, u.ID, u.Year, u.After)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !registered {
			if err := s.deleteFiles(ctx, u); err != nil {
				errs = append(errs, err)
				continue
			}
			deleted++
		}
		if err := s.Settle(ctx, u.ID); err != nil {
			errs = append(errs, err)
		}
	}
	return deleted, errors.Join(errs...)
}

// deleteFiles deletes the files of u, each by its _id.
func (s *Store) deleteFiles(ctx context.Context, u Upload) error {
	for i := range u.Files {
		if _, err := s.files.DeleteOne(ctx, bson.D{{Key: "_id", Value: fileID(u.ID, i)}}); err != nil {
			return fmt.Errorf("delete attachment %d of registration %s: %w", i, u.ID, mongodb.Classify(err))
		}
	}
	return nil
}
