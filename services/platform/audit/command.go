package audit

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/nrm-albania/nrm/services/platform/mongodb"
)

// VerifyCommand verifies the audit chain stored in database at mongoURI (see Verify), against
// the anchors if any, and prints a summary for a person to out: the records verified, the head
// to keep as an anchor and, if the chain is broken, the first bad record and what is wrong with
// it. intact is the verdict; err is a failure to verify at all (database unreachable, invalid
// anchor), distinct from a broken chain. It is the body of the CLI's "audit verify".
func VerifyCommand(ctx context.Context, mongoURI, database string, out io.Writer, anchors ...Anchor) (intact bool, err error) {
	res, err := verifyAt(ctx, mongoURI, database, func(db *mongo.Database) (VerifyResult, error) {
		return Verify(ctx, db, anchors...)
	})
	if err != nil {
		return false, fmt.Errorf("verify the audit chain in database %q: %w", database, err)
	}
	PrintResult(out, database, res, anchors)
	return res.Intact, nil
}

// VerifyObjectCommand is VerifyCommand for the records of one object (see VerifyObject): the
// body of the CLI's "audit verify --object".
func VerifyObjectCommand(ctx context.Context, mongoURI, database, object string, out io.Writer) (intact bool, err error) {
	res, err := verifyAt(ctx, mongoURI, database, func(db *mongo.Database) (VerifyResult, error) {
		return VerifyObject(ctx, db, object)
	})
	if err != nil {
		return false, fmt.Errorf("verify the audit records of an object in database %q: %w", database, err)
	}
	verdict := "INTACT"
	if !res.Intact {
		verdict = "BROKEN"
	}
	fmt.Fprintf(out, "audit records of object %q in database %q: %s\n", object, database, verdict)
	fmt.Fprintf(out, "  records verified: %d\n", res.Records)
	if res.Intact {
		fmt.Fprintf(out, "  newest record:    seq %d, hash %s\n", res.Head.Seq, res.Head.Hash)
		fmt.Fprintln(out, "  This covers the object's records and their neighbours in the chain; verify the whole")
		fmt.Fprintln(out, "  chain against an anchor to detect the removal of the newest records.")
		return true, nil
	}
	printProblem(out, res)
	return false, nil
}

// verifyAt runs verify on database at mongoURI.
func verifyAt(ctx context.Context, mongoURI, database string, verify func(*mongo.Database) (VerifyResult, error)) (VerifyResult, error) {
	client, err := mongodb.Connect(mongoURI, "nrm-audit-verify")
	if err != nil {
		return VerifyResult{}, err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = client.Disconnect(ctx)
	}()
	return verify(client.Database(database))
}

// PrintResult writes res for a person.
func PrintResult(out io.Writer, database string, res VerifyResult, anchors []Anchor) {
	verdict := "INTACT"
	if !res.Intact {
		verdict = "BROKEN"
	}
	fmt.Fprintf(out, "audit chain in database %q: %s\n", database, verdict)
	fmt.Fprintf(out, "  records verified: %d\n", res.Records)
	for _, a := range anchors {
		fmt.Fprintf(out, "  anchor:           seq %d, hash %s\n", a.Seq, a.Hash)
	}
	if res.Intact {
		fmt.Fprintf(out, "  head:             seq %d, hash %s\n", res.Head.Seq, res.Head.Hash)
		fmt.Fprintf(out, "  Keep the head outside the database and pass it as an anchor next time (%s): removing\n", res.Head)
		fmt.Fprintln(out, "  the newest records cannot be detected otherwise.")
		return
	}
	printProblem(out, res)
}

func printProblem(out io.Writer, res VerifyResult) {
	fmt.Fprintf(out, "  first bad record: seq %d (%s)\n", res.FirstBadSeq, res.Kind)
	fmt.Fprintf(out, "  problem:          %s\n", res.Problem)
	fmt.Fprintf(out, "  last good record: seq %d, hash %s\n", res.Head.Seq, res.Head.Hash)
}

// ParseAnchor parses an anchor written as "<seq>:<hash>", e.g. "42:9f86d0…" (the form String
// prints), for a command-line flag.
func ParseAnchor(s string) (Anchor, error) {
	seqText, hash, ok := strings.Cut(strings.TrimSpace(s), ":")
	seq, err := strconv.ParseInt(seqText, 10, 64)
	if !ok || err != nil || seq < 1 || seq > maxSeq || !validHash(hash) {
		return Anchor{}, fmt.Errorf("%w: %q is not <seq>:<64 lowercase hex digits>", ErrInvalidAnchor, s)
	}
	return Anchor{Seq: seq, Hash: hash}, nil
}

// String returns h as "<seq>:<hash>", the form ParseAnchor reads.
func (h Head) String() string { return fmt.Sprintf("%d:%s", h.Seq, h.Hash) }
