// Package bench measures the system end to end on the embedded stack (FerretDB on SQLite,
// embedded NATS): `make bench`. Figures and how to read them: docs/benchmarks.md.
package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	reportingv1 "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
	"github.com/nrm-albania/nrm/services/platform/mongodb"
	"github.com/nrm-albania/nrm/services/platform/testenv"
	"github.com/nrm-albania/nrm/tools/stack"
)

// parallelism × GOMAXPROCS concurrent clients.
const parallelism = 4

// registered counts the cases the benchmarks registered, for waitQuiet.
var registered atomic.Int64

var (
	once   sync.Once
	shared *stack.Stack
	err    error
)

// system starts one stack for the whole benchmark run: FerretDB on SQLite, or on the PostgreSQL
// named by NRM_BENCH_POSTGRES_URL (each run in databases of its own, named nrm_bench<random>_*).
func system(b *testing.B) *stack.Stack {
	b.Helper()
	once.Do(func() {
		dir, e := os.MkdirTemp("", "nrm-bench-")
		if e != nil {
			err = e
			return
		}
		shared, err = stack.Start(stack.Options{
			DataDir: dir, EmbeddedMongoAddr: "127.0.0.1:0", EmbeddedNATSAddr: "127.0.0.1:0",
			FerretDBPostgreSQLURL: os.Getenv("NRM_BENCH_POSTGRES_URL"),
			DatabasePrefix:        "nrm_bench" + uuid.NewString()[:8] + "_",
			Ephemeral:             true, LogLevel: "error",
		})
	})
	if err != nil {
		b.Fatal(err)
	}
	return shared
}

func request() *caseregistryv1.RegisterCaseRequest {
	return &caseregistryv1.RegisterCaseRequest{
		Profile: &caseregistryv1.Profile{Sex: caseregistryv1.Sex_SEX_FEMALE, AgeAtIdentification: proto.Int32(17), Citizenships: []string{"AL"}},
		Trafficking: &caseregistryv1.Trafficking{ExploitationTypes: []caseregistryv1.ExploitationType{
			caseregistryv1.ExploitationType_EXPLOITATION_TYPE_SEXUAL, caseregistryv1.ExploitationType_EXPLOITATION_TYPE_FORCED_BEGGING}},
		Identification: &caseregistryv1.Identification{IdentifyingInstitution: "ASP-ANTITRAF", IdentificationDate: "2026-10-02"},
	}
}

// latencies collects per-operation durations from concurrent clients.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// report adds throughput and percentiles to the benchmark's line.
func (l *latencies) report(b *testing.B, elapsed time.Duration) {
	slices.Sort(l.d)
	if len(l.d) == 0 {
		return
	}
	pct := func(p float64) float64 {
		return float64(l.d[int(float64(len(l.d)-1)*p)].Microseconds()) / 1000
	}
	b.ReportMetric(float64(len(l.d))/elapsed.Seconds(), "ops/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// run drives op from parallelism×GOMAXPROCS goroutines and reports throughput and latency.
func run(b *testing.B, op func() error) {
	var lat latencies
	var failures atomic.Int64
	b.SetParallelism(parallelism)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			t0 := time.Now()
			if err := op(); err != nil {
				failures.Add(1)
				continue
			}
			lat.add(time.Since(t0))
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if n := failures.Load(); n > 0 {
		b.Fatalf("%d operations failed", n)
	}
	lat.report(b, elapsed)
}

func BenchmarkRegisterCase(b *testing.B) {
	s := system(b)

	b.Run("via=grpc", func(b *testing.B) {
		conn, err := dial(s, 0, "NRM_TOKEN_CASEWORKER_POLICE")
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		client := caseregistryv1.NewCaseRegistryServiceClient(conn)
		req := request()
		run(b, func() error {
			_, err := client.RegisterCase(context.Background(), req)
			if err == nil {
				registered.Add(1)
			}
			return err
		})
	})

	b.Run("via=rest", func(b *testing.B) {
		body, err := protojson.Marshal(request())
		if err != nil {
			b.Fatal(err)
		}
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
		bearer := "Bearer " + devToken(s, "NRM_TOKEN_CASEWORKER_POLICE")
		run(b, func() error {
			req, err := http.NewRequest("POST", s.GatewayURL+"/v1/cases", bytes.NewReader(body))
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", bearer)
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			_, _ = io.Copy(io.Discard, resp.Body)
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("status %d", resp.StatusCode)
			}
			registered.Add(1)
			return nil
		})
	})

	// The store's own cost: the raw driver inserting documents of the same shape and size as a
	// registered case (with its pending event) into the same FerretDB.
	b.Run("via=driver-insert", func(b *testing.B) {
		c, err := mongodb.Connect(s.MongoURI, "bench")
		if err != nil {
			b.Fatal(err)
		}
		defer c.Disconnect(context.Background())
		coll := c.Database("nrm_bench_raw").Collection("cases")
		event := bytes.Repeat([]byte{0x5a}, 420) // the size of a marshaled case.registered envelope
		run(b, func() error {
			now := time.Now().UTC()
			id := uuid.Must(uuid.NewV7()).String()
			_, err := coll.InsertOne(context.Background(), bson.D{
				{Key: "_id", Value: id}, {Key: "version", Value: int64(1)},
				{Key: "profile", Value: bson.D{{Key: "sex", Value: "SEX_FEMALE"}, {Key: "age_at_identification", Value: int32(17)}, {Key: "citizenships", Value: bson.A{"AL"}}}},
				{Key: "trafficking", Value: bson.D{{Key: "status", Value: "TRAFFICKING_STATUS_POTENTIAL_VICTIM"}, {Key: "exploitation_types", Value: bson.A{"EXPLOITATION_TYPE_SEXUAL", "EXPLOITATION_TYPE_FORCED_BEGGING"}}}},
				{Key: "identification", Value: bson.D{{Key: "identifying_institution", Value: "ASP-ANTITRAF"}, {Key: "date", Value: "2026-10-02"}}},
				{Key: "state", Value: "CASE_STATE_OPEN"}, {Key: "owner_institution", Value: "ASP-ANTITRAF"},
				{Key: "registered_at", Value: now}, {Key: "updated_at", Value: now},
				{Key: "outbox", Value: bson.D{{Key: uuid.NewString(), Value: bson.D{{Key: "seq", Value: int64(16)}, {Key: "subject", Value: "nrm.case.registered"}, {Key: "data", Value: event}}}}},
			})
			return err
		})
	})
}

// BenchmarkRegisterToStatistics measures how long after RegisterCase returns the statistics
// count the case: outbox relay, JetStream, the reporting consumer and its projection.
func BenchmarkRegisterToStatistics(b *testing.B) {
	s := system(b)
	conn, err := dial(s, 0, "NRM_TOKEN_CASEWORKER_POLICE")
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	registry := caseregistryv1.NewCaseRegistryServiceClient(conn)
	rconn, err := dial(s, 3, "NRM_TOKEN_ANALYST")
	if err != nil {
		b.Fatal(err)
	}
	defer rconn.Close()
	reporting := reportingv1.NewReportingServiceClient(rconn)
	// A date of its own, so that only this benchmark's cases are counted.
	const day = "2001-01-01"
	count := func() int64 {
		r, err := reporting.GetCaseStatistics(context.Background(), &reportingv1.GetCaseStatisticsRequest{From: day, To: day})
		if err != nil {
			b.Fatal(err)
		}
		return r.GetTotal()
	}
	req := request()
	req.Identification.IdentificationDate = day
	// The earlier benchmarks leave a backlog of events for reporting; measure the path of one
	// event through a quiet system, not the time to clear that backlog.
	waitQuiet(b, reporting)
	var lat latencies
	base := count()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		if _, err := registry.RegisterCase(context.Background(), req); err != nil {
			b.Fatal(err)
		}
		registered.Add(1)
		t0 := time.Now()
		for count() < base+int64(i)+1 {
			if time.Since(t0) > 30*time.Second {
				b.Fatalf("case %d not in the statistics after 30s", i)
			}
			time.Sleep(time.Millisecond)
		}
		lat.add(time.Since(t0))
	}
	elapsed := time.Since(start)
	b.StopTimer()
	lat.report(b, elapsed)
}

// dial connects to the i-th service with the development token of that name.
func dial(s *stack.Stack, i int, token string) (*grpc.ClientConn, error) {
	return grpc.NewClient(s.Services[i].GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(testenv.Bearer(devToken(s, token))))
}

func devToken(s *stack.Stack, name string) string {
	for _, t := range s.Tokens {
		if t.Name == name {
			return t.Token
		}
	}
	panic("no development token " + name)
}

// waitQuiet waits until the statistics count every case registered so far.
func waitQuiet(b *testing.B, reporting reportingv1.ReportingServiceClient) {
	b.Helper()
	deadline := time.Now().Add(10 * time.Minute)
	for {
		r, err := reporting.GetCaseStatistics(context.Background(), &reportingv1.GetCaseStatisticsRequest{})
		if err != nil {
			b.Fatal(err)
		}
		if r.GetTotal() >= registered.Load() {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("statistics count %d of %d cases after 10 minutes", r.GetTotal(), registered.Load())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
