package test

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// resources returns the template's resources of type typ, by logical ID.
func resources(tmpl map[string]any, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	all, _ := tmpl["Resources"].(map[string]any)
	for id, r := range all {
		res := r.(map[string]any)
		if res["Type"] == typ {
			out[id] = res
		}
	}
	return out
}

// props returns a resource's Properties.
func props(r map[string]any) map[string]any {
	p, _ := r["Properties"].(map[string]any)
	return p
}

// at walks a path of map keys and slice indexes (as ints) through v.
func at(t *testing.T, v any, path ...any) any {
	t.Helper()
	cur := v
	for _, step := range path {
		switch k := step.(type) {
		case string:
			m, ok := cur.(map[string]any)
			if !ok {
				t.Fatalf("at %v: %q: not an object: %s", path, k, compact(cur))
			}
			cur, ok = m[k]
			if !ok {
				t.Fatalf("at %v: no key %q in %s", path, k, compact(m))
			}
		case int:
			s, ok := cur.([]any)
			if !ok || k >= len(s) {
				t.Fatalf("at %v: index %d: not in %s", path, k, compact(cur))
			}
			cur = s[k]
		}
	}
	return cur
}

// ref is the JSON of {"Ref": id}.
func ref(id string) any { return map[string]any{"Ref": id} }

// getAtt is the JSON of {"Fn::GetAtt": [id, attr]}.
func getAtt(id, attr string) any { return map[string]any{"Fn::GetAtt": []any{id, attr}} }

// equalJSON compares two values after a JSON round trip.
func equalJSON(a, b any) bool {
	return reflect.DeepEqual(roundTrip(a), roundTrip(b))
}

func roundTrip(v any) any {
	raw, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(raw, &out)
	return out
}

func compact(v any) string {
	raw, _ := json.Marshal(v)
	s := string(raw)
	if len(s) > 400 {
		s = s[:400] + "..."
	}
	return s
}

// mentions reports whether the JSON text of v contains want.
func mentions(v any, want string) bool {
	raw, _ := json.Marshal(v)
	return strings.Contains(string(raw), want)
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// statements returns a policy document's statements.
func statements(t *testing.T, doc any) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, s := range at(t, doc, "Statement").([]any) {
		out = append(out, s.(map[string]any))
	}
	return out
}

// actions returns a statement's actions as a slice.
func actions(st map[string]any) []string {
	switch a := st["Action"].(type) {
	case string:
		return []string{a}
	case []any:
		out := make([]string, len(a))
		for i, x := range a {
			out[i] = x.(string)
		}
		return out
	}
	return nil
}
