package datasets

import (
	"strings"
	"testing"
)

func TestContentID(t *testing.T) {
	m := func(kv ...string) []Message {
		var ms []Message
		for i := 0; i < len(kv); i += 2 {
			ms = append(ms, Message{Role: kv[i], Content: kv[i+1]})
		}
		return ms
	}
	base := ContentID(m("user", "hi", "assistant", "hello"))
	if len(base) != 19 || base[:3] != "ex-" {
		t.Fatalf("ContentID = %q, want ex- and 16 hex digits", base)
	}
	// Pinned: ids are written into datasets and compared across runs, so a
	// change of the hash must be deliberate.
	if want := "ex-60669814d8d5bfbd"; base != want {
		t.Errorf("ContentID = %q, want %q", base, want)
	}
	for _, tc := range []struct {
		name string
		msgs []Message
	}{
		{"content boundary moved", m("user", "hih", "assistant", "ello")},
		{"role and content boundary", m("use", "rhi", "assistant", "hello")},
		{"other role", m("system", "hi", "assistant", "hello")},
		{"one message more", m("user", "hi", "assistant", "hello", "user", "")},
		{"case", m("user", "Hi", "assistant", "hello")},
	} {
		if got := ContentID(tc.msgs); got == base {
			t.Errorf("%s: same id %s as the base conversation", tc.name, got)
		}
	}
	if again := ContentID(m("user", "hi", "assistant", "hello")); again != base {
		t.Errorf("not stable: %s then %s", base, again)
	}
	msgs := m("user", "hi", "assistant", "hello")
	if n := testing.AllocsPerRun(100, func() { ContentID(msgs) }); n > 1 && !raceEnabled {
		t.Errorf("ContentID allocates %v times, want 1 (the string)", n)
	}
}

func TestContentIDLongRole(t *testing.T) {
	long := "a-role-name-longer-than-the-separator-buffer"
	a := ContentID([]Message{{Role: long, Content: "x"}, {Role: "user", Content: "y"}})
	b := ContentID([]Message{{Role: long + "x", Content: ""}, {Role: "user", Content: "y"}})
	if a == b {
		t.Errorf("role/content boundary lost for long roles: both %s", a)
	}
}

func BenchmarkContentID(b *testing.B) {
	msgs := []Message{{Role: "system", Content: strings.Repeat("You are a physics expert. ", 5)},
		{Role: "user", Content: strings.Repeat("Why is the sky blue? ", 4)},
		{Role: "assistant", Content: strings.Repeat("Rayleigh scattering of sunlight by the air. ", 12)}}
	for b.Loop() {
		ContentID(msgs)
	}
}
