package gateway

import (
	"errors"
	"fmt"
	"sync"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// appendWithLists appends to out the JSON object b, which protojson wrote for m, with every list
// field present ([] when protojson left it out for being empty), in m's nested messages too.
// Members keep protojson's order, the fields' declaration order. Well-known types have JSON
// forms of their own and are copied as they are, as is every message without a list anywhere
// inside, which spares reading most of a response again.
func appendWithLists(out []byte, m protoreflect.Message, b []byte) ([]byte, error) {
	md := m.Descriptor()
	if isWellKnown(md) || !hasLists(md) {
		return append(out, b...), nil
	}
	ms, err := members(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", md.FullName(), err)
	}
	out = append(out, '{')
	n := 0
	add := func(key string) {
		if n > 0 {
			out = append(out, ',')
		}
		n++
		out = append(out, '"')
		out = append(out, key...)
		out = append(out, '"', ':')
	}
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		key := fd.JSONName()
		j := ms.find(key)
		if j < 0 {
			if fd.IsList() {
				add(key)
				out = append(out, '[', ']')
			}
			continue
		}
		value := ms[j].value
		ms[j].done = true
		add(key)
		switch {
		case fd.IsMap() || fd.Message() == nil:
			out = append(out, value...)
		case fd.IsList():
			list := m.Get(fd).List()
			items, err := elements(value)
			if err != nil || len(items) != list.Len() {
				return nil, fmt.Errorf("%s: %d values for %d items (%v)", fd.FullName(), len(items), list.Len(), err)
			}
			out = append(out, '[')
			for k, item := range items {
				if k > 0 {
					out = append(out, ',')
				}
				if out, err = appendWithLists(out, list.Get(k).Message(), item); err != nil {
					return nil, err
				}
			}
			out = append(out, ']')
		default:
			if out, err = appendWithLists(out, m.Get(fd).Message(), value); err != nil {
				return nil, err
			}
		}
	}
	// Anything else (extensions) keeps its place after the fields.
	for _, mem := range ms {
		if !mem.done {
			if n > 0 {
				out = append(out, ',')
			}
			n++
			out = append(append(append(out, mem.key...), ':'), mem.value...)
		}
	}
	return append(out, '}'), nil
}

// listsIn caches hasLists by message.
var listsIn sync.Map // protoreflect.FullName → bool

// hasLists reports whether md, or a message it holds, has a list field.
func hasLists(md protoreflect.MessageDescriptor) bool {
	if v, ok := listsIn.Load(md.FullName()); ok {
		return v.(bool)
	}
	has := findLists(md, map[protoreflect.FullName]bool{})
	listsIn.Store(md.FullName(), has)
	return has
}

// findLists walks the messages md holds, each once (messages may hold themselves).
func findLists(md protoreflect.MessageDescriptor, seen map[protoreflect.FullName]bool) bool {
	if seen[md.FullName()] || isWellKnown(md) {
		return false
	}
	seen[md.FullName()] = true
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if fd.IsList() {
			return true
		}
		if fd.Message() != nil && !fd.IsMap() && findLists(fd.Message(), seen) {
			return true
		}
	}
	return false
}

// A minimal reader of the JSON protojson writes: it splits an object into its members and an
// array into its elements without decoding the values, which are copied as they are.

type member struct {
	key   []byte // as written, quotes included
	value []byte
	done  bool
}

type memberList []member

// find returns the index of the member named key, -1 if there is none. protojson writes JSON
// names without escapes, so the key is compared as written.
func (ms memberList) find(key string) int {
	for i := range ms {
		if k := ms[i].key; len(k) == len(key)+2 && string(k[1:len(k)-1]) == key {
			return i
		}
	}
	return -1
}

var errJSON = errors.New("not the JSON protojson writes")

func members(b []byte) (memberList, error) {
	ms := make(memberList, 0, 16)
	err := each(b, '{', '}', func(b []byte, i int) (int, error) {
		if b[i] != '"' {
			return 0, errJSON
		}
		end, err := stringEnd(b, i)
		if err != nil {
			return 0, err
		}
		key := b[i:end]
		if i = skipSpace(b, end); i >= len(b) || b[i] != ':' {
			return 0, errJSON
		}
		i = skipSpace(b, i+1)
		vend, err := valueEnd(b, i)
		if err != nil {
			return 0, err
		}
		ms = append(ms, member{key: key, value: b[i:vend]})
		return vend, nil
	})
	return ms, err
}

func elements(b []byte) ([][]byte, error) {
	var items [][]byte
	err := each(b, '[', ']', func(b []byte, i int) (int, error) {
		end, err := valueEnd(b, i)
		if err != nil {
			return 0, err
		}
		items = append(items, b[i:end])
		return end, nil
	})
	return items, err
}

// each calls item for every comma-separated entry between open and close; item returns where
// its entry ends.
func each(b []byte, open, close byte, item func(b []byte, i int) (int, error)) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != open {
		return errJSON
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == close {
		return nil
	}
	for i < len(b) {
		end, err := item(b, i)
		if err != nil {
			return err
		}
		i = skipSpace(b, end)
		switch {
		case i >= len(b):
			return errJSON
		case b[i] == close:
			return nil
		case b[i] != ',':
			return errJSON
		}
		i = skipSpace(b, i+1)
	}
	return errJSON
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index after the string that starts at b[i].
func stringEnd(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, errJSON
}

// valueEnd returns the index after the value that starts at b[i].
func valueEnd(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errJSON
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, err := stringEnd(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errJSON
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' && b[j] != '\t' && b[j] != '\r' {
		j++
	}
	if j == i {
		return 0, errJSON
	}
	return j, nil
}
