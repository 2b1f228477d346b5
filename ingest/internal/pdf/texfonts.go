package pdf

import "strings"

// tuneline patch: TeX's math fonts (Computer Modern symbol and math italic,
// in OMS and OML encodings) are often embedded as Type 1 fonts without an
// /Encoding or /ToUnicode; the reader then decoded their codes as
// PDFDocEncoding, turning ∀ into "8", ⊆ into U+FFFD and α into a control
// character. These tables decode them by the font's own encoding.

func texTable(layout string) *[256]rune {
	var t [256]rune
	for i := range t {
		t[i] = rune(i)
	}
	i := 0
	for _, r := range layout {
		t[i] = r
		i++
	}
	// The reader itself decodes "\n" through the font at the end of text
	// objects: keep it (Ω in OML and ⊗ in OMS are lost, rare in text).
	t['\n'] = '\n'
	return &t
}

// OMS (cmsy): code 0x00 to 0x7F.
var omsEncoding = texTable("" +
	"−·×∗÷⋄±∓⊕⊖⊗⊘⊙○◦•" + // 0x00
	"≍≡⊆⊇≤≥⪯⪰∼≈⊂⊃≪≫≺≻" + // 0x10
	"←→↑↓↔↗↘≃⇐⇒⇑⇓⇔↖↙∝" + // 0x20
	"′∞∈∋△▽/↦∀∃¬∅ℜℑ⊤⊥" + // 0x30
	"ℵABCDEFGHIJKLMNO" + // 0x40 (calligraphic capitals as plain letters)
	"PQRSTUVWXYZ∪∩⊎∧∨" + // 0x50
	"⊢⊣⌊⌋⌈⌉{}⟨⟩∣‖↕⇕\\≀" + // 0x60
	"√⨿∇∫⊔⊓⊑⊒§†‡¶♣♢♡♠") // 0x70

// OML (cmmi): Greek, old-style digits, punctuation, italic letters.
var omlEncoding = texTable("" +
	"Γ∆ΘΛΞΠΣΥΦΨΩαβγδϵ" + // 0x00
	"ζηθικλμνξπρστυφχ" + // 0x10
	"ψωεϑϖϱςϕ↼↽⇀⇁⊂⊃▷◁" + // 0x20
	"0123456789.,</>⋆" + // 0x30
	"∂ABCDEFGHIJKLMNO" + // 0x40
	"PQRSTUVWXYZ♭♮♯⌣⁀" + // 0x50
	"ℓabcdefghijklmno" + // 0x60
	"pqrstuvwxyzıȷ℘\u20d7\u2040") // 0x70

// OMX (cmex): big delimiters and operators; pieces of extensible
// delimiters become the delimiter.
var omxEncoding = texTable("" +
	"()[]⌊⌋⌈⌉{}⟨⟩|‖/\\" + // 0x00
	"()()[]⌊⌋⌈⌉{}⟨⟩/\\" + // 0x10
	"()[]⌊⌋⌈⌉{}⟨⟩/\\/\\" + // 0x20
	"()[][][]{}{}{}||" + // 0x30
	"()()⟨⟩⊔⊔∮∮⊙⊙⊕⊕⊗⊗" + // 0x40
	"∑∏∫⋃⋂⊎⋀⋁∑∏∫⋃⋂⊎⋀⋁" + // 0x50
	"∐∐^^^~~~[]⌊⌋⌈⌉{}" + // 0x60
	"√√√√√√|‖↑↓⌜⌝⌞⌟⇑⇓") // 0x70

// OT1 (cmr, cmbx, cmti...): only the first 32 codes differ from ASCII in
// ways that matter (Greek capitals, ligatures, ß æ œ ø).
var ot1Encoding = func() *[256]rune {
	t := texTable("Γ∆ΘΛΞΠΣΥΦΨΩ\ufb00\ufb01\ufb02\ufb03\ufb04ıȷ`´ˇ˘¯˚¸ßæœøÆŒØ")
	for c, r := range map[int]rune{0x22: '”', 0x3c: '¡', 0x3e: '¿', 0x5c: '“', 0x7b: '–', 0x7c: '—', 0x7d: '˝', 0x7e: '\u0303', 0x7f: '¨'} {
		t[c] = r
	}
	return t
}()

// MSAM (AMS symbols): the proof squares and diamonds.
var msamEncoding = func() *[256]rune {
	t := texTable("")
	for c, r := range map[int]rune{0x03: '□', 0x04: '■', 0x05: '▴', 0x06: '◇', 0x07: '◆', 0x08: '⋄'} {
		t[c] = r
	}
	return t
}()

// texEncoding returns the table for a TeX math font by its base name.
func texEncoding(base string) *[256]rune {
	b := strings.ToUpper(base)
	if i := strings.IndexByte(b, '+'); i >= 0 { // subset prefix ABCDEF+CMSY10
		b = b[i+1:]
	}
	switch {
	case strings.HasPrefix(b, "CMSY") || strings.HasPrefix(b, "CMBSY"):
		return omsEncoding
	case strings.HasPrefix(b, "CMMI") || strings.HasPrefix(b, "CMMIB"):
		return omlEncoding
	case strings.HasPrefix(b, "CMEX"):
		return omxEncoding
	case strings.HasPrefix(b, "MSAM"):
		return msamEncoding
	case strings.HasPrefix(b, "CMR") || strings.HasPrefix(b, "CMBX") || strings.HasPrefix(b, "CMTI") || strings.HasPrefix(b, "CMSL") || strings.HasPrefix(b, "CMSS"):
		return ot1Encoding
	}
	return nil
}
