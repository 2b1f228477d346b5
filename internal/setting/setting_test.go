package setting

import (
	"errors"
	"fmt"
	"testing"
)

func TestWording(t *testing.T) {
	e := &Error{Section: "export", Key: "near_dup", Flag: "near-dup", Value: "1.5", Problem: "must be in [0, 1)"}
	wrapped := fmt.Errorf("export openai: %w", e)
	for _, tt := range []struct {
		err  error
		want string
	}{
		{e, "export.near_dup 1.5: must be in [0, 1)"},
		{wrapped, "export openai: export.near_dup 1.5: must be in [0, 1)"},
		{AsFlag(wrapped), "export openai: --near-dup 1.5: must be in [0, 1)"},
		{AsFlag(AsKey(wrapped)), "export openai: export.near_dup 1.5: must be in [0, 1)"},
		{AsFlag(errors.New("plain")), "plain"},
		{AsFlag(&Error{Section: "ollama", Key: "timeout", Problem: "spent"}), "ollama.timeout: spent"},
	} {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
	var got *Error
	if !errors.As(AsFlag(wrapped), &got) || got != e {
		t.Error("the worded error does not unwrap to the setting error")
	}
	if AsFlag(nil) != nil || AsKey(nil) != nil {
		t.Error("nil is not kept")
	}
}
