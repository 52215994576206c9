package grpcserver

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/nrm-albania/nrm/services/platform/requestid"
)

// withRequestID takes the caller's request id (or makes one), puts it in the context and
// echoes it in the response header so that callers can quote it.
func withRequestID(ctx context.Context) context.Context {
	var id string
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get(requestid.MetadataKey); len(v) > 0 {
			id = v[0]
		}
	}
	id = requestid.Sanitize(id)
	_ = grpc.SetHeader(ctx, metadata.Pairs(requestid.MetadataKey, id))
	return requestid.With(ctx, id)
}

func unaryRequestID(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	return h(withRequestID(ctx), req)
}

func streamRequestID(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	return h(srv, &wrappedStream{ServerStream: ss, ctx: withRequestID(ss.Context())})
}

type wrappedStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (w *wrappedStream) Context() context.Context { return w.ctx }

type guardInterceptors struct{ g Guard }

func (g guardInterceptors) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if g.g == nil {
		return h(ctx, req)
	}
	ctx, err := g.g.Admit(ctx, info.FullMethod)
	if err != nil {
		return nil, err
	}
	return h(ctx, req)
}

func (g guardInterceptors) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	if g.g == nil {
		return h(srv, ss)
	}
	ctx, err := g.g.Admit(ss.Context(), info.FullMethod)
	if err != nil {
		return err
	}
	return h(srv, &wrappedStream{ServerStream: ss, ctx: ctx})
}

type auditInterceptor struct{ a Auditor }

func (a auditInterceptor) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	resp, err := h(ctx, req)
	if a.a == nil {
		return resp, err
	}
	if aerr := a.a.Audit(ctx, info.FullMethod, req, resp, err); aerr != nil {
		return nil, aerr
	}
	return resp, err
}

// errorHygiene makes sure no internal error text reaches a caller: an error that is not a gRPC
// status (a driver error, say) is logged with the request id and replaced by a bare Internal.
type errorHygiene struct{ log *slog.Logger }

func (e errorHygiene) clean(ctx context.Context, method string, err error) error {
	if err == nil {
		return nil
	}
	// A status error, possibly wrapped: pass on the status alone, without the wrappers' text,
	// which is internal detail.
	var se interface{ GRPCStatus() *status.Status }
	if errors.As(err, &se) {
		return se.GRPCStatus().Err()
	}
	switch {
	case ctx.Err() == context.Canceled:
		return status.Error(codes.Canceled, "request canceled by the caller")
	case ctx.Err() == context.DeadlineExceeded:
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	}
	e.log.ErrorContext(ctx, "internal error", "grpc.method", method, "error", err)
	return status.Errorf(codes.Internal, "internal error; quote request id %s", requestid.From(ctx))
}

func (e errorHygiene) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	resp, err := h(ctx, req)
	return resp, e.clean(ctx, info.FullMethod, err)
}

func (e errorHygiene) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	return e.clean(ss.Context(), info.FullMethod, h(srv, ss))
}

// capDeadline bounds a unary call's deadline to max.
func capDeadline(max time.Duration) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > max {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, max)
			defer cancel()
		}
		return h(ctx, req)
	}
}
