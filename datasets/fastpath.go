package datasets

import (
	"encoding/binary"
	"encoding/json"
	"math/bits"
	"unicode/utf8"
	"unsafe"
)

// parseOpenAIFast decodes the commonest record, {"messages":[{"role":
// "...","content":"..."},...]} with an optional string "id", without
// reflection. It returns ok=false for anything else (other keys, other
// value types, tool roles, invalid UTF-8, duplicate keys, ...), and the
// caller falls back to the general decoder; a differential fuzz test holds
// the two to the same result.
//
// With alias, strings without escapes point into b instead of being copied:
// the caller must own b and never change it (Raw.Decode: each raw record
// has a buffer of its own).
func parseOpenAIFast(b []byte, alias bool) (ex Example, ok bool) {
	p := fastParser{b: b, alias: alias}
	p.ws()
	if !p.lit('{') {
		return ex, false
	}
	seenMsgs, seenID := false, false
	for first := true; ; first = false {
		p.ws()
		if p.lit('}') {
			if first {
				return ex, false
			}
			break
		}
		if !first && (!p.lit(',') || !p.wsThen()) {
			return ex, false
		}
		key, kok := p.str()
		if !kok {
			return ex, false
		}
		p.ws()
		if !p.lit(':') {
			return ex, false
		}
		p.ws()
		switch key {
		case "messages":
			if seenMsgs {
				return ex, false
			}
			seenMsgs = true
			msgs, mok := p.messages()
			if !mok {
				return ex, false
			}
			ex.Messages = msgs
		case "id":
			if seenID {
				return ex, false
			}
			seenID = true
			id, iok := p.str()
			if !iok {
				return ex, false
			}
			ex.ID = id
		default:
			return ex, false
		}
	}
	p.ws()
	if p.i != len(p.b) || !seenMsgs {
		return ex, false
	}
	ex.Meta.Format = FormatOpenAI
	return ex, true
}

type fastParser struct {
	b     []byte
	i     int
	alias bool
}

func (p *fastParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// wsThen skips white space and reports whether input remains.
func (p *fastParser) wsThen() bool { p.ws(); return p.i < len(p.b) }

func (p *fastParser) lit(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str reads a JSON string. Strings with escapes are decoded by
// encoding/json (rare in keys, and exact for \u sequences and surrogates).
func (p *fastParser) str() (string, bool) {
	if !p.lit('"') {
		return "", false
	}
	b, i := p.b, p.i
	start := i
	var high uint64 // OR of the bytes passed 8 at a time (bit 7: non-ASCII)
	ascii, esc := true, false
	for {
		// Eight bytes at a time while none is a quote, a backslash or a
		// control character; then straight to the first that is (the
		// lowest flagged byte of each test is exact).
		for i+8 <= len(b) {
			w := binary.LittleEndian.Uint64(b[i:])
			if m := hasZero(w^(ones*'"')) | hasZero(w^(ones*'\\')) | hasLess(w, 0x20); m != 0 {
				k := bits.TrailingZeros64(m) / 8
				high |= w & (1<<(8*k) - 1)
				i += k
				break
			}
			high |= w
			i += 8
		}
		if i >= len(b) {
			break
		}
		c := b[i]
		switch {
		case c == '"':
			s := b[start:i]
			i++
			p.i = i
			if high&(ones*0x80) != 0 {
				ascii = false
			}
			if !ascii && !utf8.Valid(s) {
				return "", false
			}
			if esc {
				var out string
				if json.Unmarshal(b[start-1:i], &out) != nil {
					return "", false
				}
				return out, true
			}
			if p.alias && len(s) > 0 {
				return unsafe.String(&s[0], len(s)), true
			}
			return string(s), true
		case c == '\\':
			esc = true
			i += 2
			continue
		case c < 0x20:
			p.i = i
			return "", false
		case c >= 0x80:
			ascii = false
		}
		i++
	}
	p.i = i
	return "", false
}

const ones = 0x0101010101010101

// hasZero is non-zero when a byte of w is zero; hasLess when a byte is
// below n (n <= 128). Both are exact as "any" tests.
func hasZero(w uint64) uint64 { return (w - ones) &^ w & (ones * 0x80) }

func hasLess(w uint64, n uint64) uint64 { return (w - ones*n) &^ w & (ones * 0x80) }

func (p *fastParser) messages() ([]Message, bool) {
	if !p.lit('[') {
		return nil, false
	}
	msgs := make([]Message, 0, 8)
	for first := true; ; first = false {
		p.ws()
		if p.lit(']') {
			if first {
				return msgs, true
			}
			return msgs, true
		}
		if !first {
			if !p.lit(',') {
				return nil, false
			}
			p.ws()
		}
		m, ok := p.message()
		if !ok {
			return nil, false
		}
		msgs = append(msgs, m)
	}
}

func (p *fastParser) message() (Message, bool) {
	var m Message
	if !p.lit('{') {
		return m, false
	}
	seenRole, seenContent := false, false
	for first := true; ; first = false {
		p.ws()
		if p.lit('}') {
			break
		}
		if !first {
			if !p.lit(',') {
				return m, false
			}
			p.ws()
		}
		key, ok := p.str()
		if !ok {
			return m, false
		}
		p.ws()
		if !p.lit(':') {
			return m, false
		}
		p.ws()
		v, ok := p.str()
		if !ok {
			return m, false
		}
		switch {
		case key == "role" && !seenRole:
			seenRole, m.Role = true, internRole(v)
		case key == "content" && !seenContent:
			seenContent, m.Content = true, v
		default:
			return m, false
		}
	}
	if !seenRole || !seenContent || m.Role == "tool" || m.Role == "function" {
		return m, false
	}
	return m, true
}

// internRole returns the package's own string for the common roles, so that
// later comparisons find equal pointers and do not reach into the line.
func internRole(r string) string {
	switch r {
	case RoleUser:
		return RoleUser
	case RoleAssistant:
		return RoleAssistant
	case RoleSystem:
		return RoleSystem
	}
	return r
}
