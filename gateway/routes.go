package gateway

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// route is what the gateway knows of one REST route from its google.api.http rule: the request
// message, and the parts of it the path and the body fill in. It is read from the same
// descriptors grpc-gateway's generated handlers were made from, so that it cannot drift from
// them.
type route struct {
	method   string
	template string   // the path as routeName prints it: /v1/cases/{id}:close
	segments []string // of template, for matching a path
	verb     string   // after the last ':' of template, without it
	input    protoreflect.MessageDescriptor
	// body is the request field the body fills in ("*": all of them; "": none).
	body string
	// bound are the proto paths of the fields the path fills in.
	bound []string
}

// routes are the REST routes of the registered services, by method and template.
type routes map[string]*route

func routeKey(method, template string) string { return method + " " + template }

// pathVariable matches {field.path} or {field.path=pattern} in an http rule's path.
var pathVariable = regexp.MustCompile(`\{([^}=]+)(=[^}]*)?\}`)

// routesOf reads the http rules of the named services from the registered descriptors.
func routesOf(serviceNames ...string) (routes, error) {
	rs := routes{}
	for _, name := range serviceNames {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
		if err != nil {
			return nil, fmt.Errorf("service %s: %w", name, err)
		}
		sd, ok := d.(protoreflect.ServiceDescriptor)
		if !ok {
			return nil, fmt.Errorf("%s is not a service", name)
		}
		for i := range sd.Methods().Len() {
			m := sd.Methods().Get(i)
			rule, _ := proto.GetExtension(m.Options(), annotations.E_Http).(*annotations.HttpRule)
			if rule == nil {
				continue
			}
			for _, r := range append([]*annotations.HttpRule{rule}, rule.GetAdditionalBindings()...) {
				rt := newRoute(r, m.Input())
				if rt == nil {
					continue
				}
				rs[routeKey(rt.method, rt.template)] = rt
			}
		}
	}
	return rs, nil
}

// addGet adds a route the gateway serves itself.
func (rs routes) addGet(path string, input protoreflect.MessageDescriptor) {
	rt := newRoute(&annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: path}}, input)
	rs[routeKey(rt.method, rt.template)] = rt
}

func newRoute(r *annotations.HttpRule, input protoreflect.MessageDescriptor) *route {
	var method, path string
	switch p := r.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		method, path = http.MethodGet, p.Get
	case *annotations.HttpRule_Post:
		method, path = http.MethodPost, p.Post
	case *annotations.HttpRule_Put:
		method, path = http.MethodPut, p.Put
	case *annotations.HttpRule_Patch:
		method, path = http.MethodPatch, p.Patch
	case *annotations.HttpRule_Delete:
		method, path = http.MethodDelete, p.Delete
	case *annotations.HttpRule_Custom:
		method, path = p.Custom.GetKind(), p.Custom.GetPath()
	default:
		return nil
	}
	rt := &route{method: method, input: input, body: r.GetBody()}
	for _, v := range pathVariable.FindAllStringSubmatch(path, -1) {
		rt.bound = append(rt.bound, v[1])
	}
	// grpc-gateway prints {id=*} for {id}; routeName shortens it back.
	rt.template = pathVariable.ReplaceAllString(path, "{$1}")
	rest := rt.template
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		if j := strings.LastIndexByte(rest[i:], ':'); j >= 0 && !strings.Contains(rest[i+j:], "}") {
			rest, rt.verb = rest[:i+j], rest[i+j+1:]
		}
	}
	rt.segments = strings.Split(strings.TrimPrefix(rest, "/"), "/")
	return rt
}

// matches reports whether path is one of the route's paths.
func (rt *route) matches(path string) bool {
	if rt.verb != "" {
		var ok bool
		if path, ok = strings.CutSuffix(path, ":"+rt.verb); !ok {
			return false
		}
	}
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(segs) != len(rt.segments) {
		return false
	}
	for i, s := range rt.segments {
		if strings.HasPrefix(s, "{") {
			if segs[i] == "" {
				return false
			}
		} else if s != segs[i] {
			return false
		}
	}
	return true
}

// allowed lists the methods of the routes that match path, for the Allow header of a 405.
func (rs routes) allowed(path string) []string {
	var methods []string
	for _, rt := range rs {
		if rt.matches(path) && !slices.Contains(methods, rt.method) {
			methods = append(methods, rt.method)
		}
	}
	slices.Sort(methods)
	return methods
}

// unknownQuery returns the query parameters of the request the route does not read, sorted.
// grpc-gateway fills the request message from any parameter that names one of its fields, by
// proto name or JSON name at each step of a dotted path, except the fields the path or the body
// fill in; it ignores every other parameter. Those are what is returned here: a misspelt filter
// would otherwise widen a search to every case instead of narrowing it.
func (rt *route) unknownQuery(query map[string][]string) []string {
	var unknown []string
	for key := range query {
		if !rt.readsQuery(key) {
			unknown = append(unknown, key)
		}
	}
	slices.Sort(unknown)
	return unknown
}

func (rt *route) readsQuery(key string) bool {
	if rt.body == "*" {
		return false
	}
	md := rt.input
	var protoPath []string
	steps := strings.Split(key, ".")
	for i, step := range steps {
		fd := fieldByName(md, step)
		if fd == nil {
			return false
		}
		protoPath = append(protoPath, string(fd.Name()))
		last := i == len(steps)-1
		switch {
		case fd.IsMap():
			return false
		case fd.Message() != nil && !isWellKnown(fd.Message()):
			if last || fd.IsList() {
				return false // a message is no value, and a list of them cannot be spelt in a query
			}
			md = fd.Message()
		case !last:
			return false // a value has no fields
		}
	}
	p := strings.Join(protoPath, ".")
	if rt.body != "" && (p == rt.body || strings.HasPrefix(p, rt.body+".")) {
		return false
	}
	for _, b := range rt.bound {
		if p == b || strings.HasPrefix(p, b+".") {
			return false
		}
	}
	return true
}

// fieldByName finds a field by its proto name or its JSON name, as grpc-gateway does.
func fieldByName(md protoreflect.MessageDescriptor, name string) protoreflect.FieldDescriptor {
	if fd := md.Fields().ByName(protoreflect.Name(name)); fd != nil {
		return fd
	}
	return md.Fields().ByJSONName(name)
}

// isWellKnown reports the google.protobuf messages (Timestamp, Duration, wrappers, FieldMask)
// that a query parameter sets as one value.
func isWellKnown(md protoreflect.MessageDescriptor) bool {
	return md.ParentFile().Package() == "google.protobuf"
}

// jsonPath rewrites a field path the services name in proto spelling
// ("profile.age_at_identification", "identity.aliases[1]") in the JSON spelling of the request
// ("profile.ageAtIdentification"). The path is read from the request message, or else from the
// field the body fills in, as a service may name fields relative to it. A path that does not
// follow the message is returned as it is.
func (rt *route) jsonPath(path string) string {
	if p, ok := translatePath(rt.input, path); ok {
		return p
	}
	if rt.body != "" && rt.body != "*" {
		if fd := rt.input.Fields().ByName(protoreflect.Name(rt.body)); fd != nil && fd.Message() != nil {
			if p, ok := translatePath(fd.Message(), path); ok {
				return p
			}
		}
	}
	return path
}

func translatePath(md protoreflect.MessageDescriptor, path string) (string, bool) {
	steps := strings.Split(path, ".")
	for i, step := range steps {
		if md == nil {
			return "", false
		}
		name, index, _ := strings.Cut(step, "[")
		fd := fieldByName(md, name)
		if fd == nil {
			return "", false
		}
		steps[i] = fd.JSONName()
		if index != "" {
			steps[i] += "[" + index
		}
		md = nil
		if fd.Message() != nil && !fd.IsMap() {
			md = fd.Message()
		}
	}
	return strings.Join(steps, "."), true
}

// queryParams lists, in JSON spelling, the query parameters the route reads, for the error that
// names an unknown one.
func (rt *route) queryParams() []string {
	if rt.body == "*" {
		return nil
	}
	var params []string
	var walk func(md protoreflect.MessageDescriptor, prefix string, depth int)
	walk = func(md protoreflect.MessageDescriptor, prefix string, depth int) {
		for i := range md.Fields().Len() {
			fd := md.Fields().Get(i)
			name := prefix + fd.JSONName()
			switch {
			case fd.IsMap() || (fd.IsList() && fd.Message() != nil && !isWellKnown(fd.Message())):
			case fd.Message() != nil && !isWellKnown(fd.Message()):
				if depth < maxQueryDepth {
					walk(fd.Message(), name+".", depth+1)
				}
			case rt.readsQuery(name):
				params = append(params, name)
			}
		}
	}
	walk(rt.input, "", 1)
	return params
}

// maxQueryDepth bounds the listing of nested parameters, which a recursive message would
// otherwise make endless.
const maxQueryDepth = 4
