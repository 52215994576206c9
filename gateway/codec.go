package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// jsonCodec is the REST API's marshaler: protojson with the lowerCamelCase JSON names the OpenAPI
// document shows, unset fields left out of responses except lists, which are always written
// ([] when empty), and a strict request decoder.
type jsonCodec struct{ *runtime.JSONPb }

// Marshal writes a message as protojson does, then adds every list field it left out for being
// empty. protojson can only emit all unpopulated fields or none; all would also write every
// unset scalar as its zero ("ageAtIdentification": 0 for an age nobody knows), which reads as a
// value. A client iterating "cases" should not need to tell a missing list from an empty one.
func (c jsonCodec) Marshal(v any) ([]byte, error) {
	m, ok := v.(proto.Message)
	if !ok {
		return c.JSONPb.Marshal(v)
	}
	b, err := c.MarshalOptions.Marshal(m)
	if err != nil {
		return nil, err
	}
	return appendWithLists(make([]byte, 0, len(b)+len(b)/8), m.ProtoReflect(), b)
}

func newJSONCodec() jsonCodec {
	return jsonCodec{&runtime.JSONPb{
		MarshalOptions: protojson.MarshalOptions{UseProtoNames: false, EmitUnpopulated: false},
		// A misspelt field is a client bug that would otherwise be silently dropped.
		UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
	}}
}

// errEmptyBody replaces the io.EOF that the generated handlers treat as "no body, empty
// request": for the API an empty body is a mistake, not a request with nothing set.
var errEmptyBody = errors.New("request body is empty; expected a JSON object")

// NewDecoder returns a decoder that reads the whole body before parsing it. The edge has already
// bounded the body, so this holds at most MaxBodyBytes; reading it all means a too-large body
// is noticed before anything is sent to a backend, and protojson then rejects anything after
// the JSON object, which a streaming decoder would ignore.
//
// The generated handlers turn any error returned here into InvalidArgument with the error's text
// as the message, so the text is written for the API's users.
func (c jsonCodec) NewDecoder(r io.Reader) runtime.Decoder {
	return runtime.DecoderFunc(func(v any) error {
		b, err := io.ReadAll(r)
		if err != nil {
			// Never shown: the edge's body reader has recorded the cause, and writeError
			// answers from it.
			return fmt.Errorf("reading the request body: %w", err)
		}
		if len(bytes.TrimSpace(b)) == 0 {
			return errEmptyBody
		}
		m, ok := v.(proto.Message)
		if !ok {
			return c.Unmarshal(b, v)
		}
		if err := c.UnmarshalOptions.Unmarshal(b, m); err != nil {
			return fmt.Errorf("invalid request body: %s", withoutProtoPrefix(err.Error()))
		}
		return nil
	})
}

// withoutProtoPrefix drops the "proto: " that protobuf-go puts before its messages; the API's
// users never see the word proto elsewhere. (protobuf-go randomly writes the space as U+00A0 to
// discourage matching on its messages; only the display is changed here.)
func withoutProtoPrefix(msg string) string {
	if rest, ok := strings.CutPrefix(msg, "proto:"); ok {
		return strings.TrimLeft(rest, " \u00a0")
	}
	return msg
}
