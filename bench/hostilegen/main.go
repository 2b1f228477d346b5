// Command hostilegen makes the inputs of bench/hostile.sh that a shell
// cannot write easily, and serves its network cases on loopback addresses:
//
//	hostilegen pdfs DIR            a sound PDF and the size-field PDFs of issue 29, case 1
//	hostilegen memdb DIR N         a sound memory (memory.db + interactions.jsonl) and damaged copies
//	hostilegen serve FILE          HTTP on 127.0.0.1 and 127.0.0.2 (ports written to FILE)
//
// Every file it writes goes under DIR; serve runs until it is killed.
package main

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/tuneline/tuneline/internal/pdfgen"
	"github.com/tuneline/tuneline/memory"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: hostilegen pdfs DIR | memdb DIR N | serve FILE")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "pdfs":
		err = pdfs(os.Args[2])
	case "memdb":
		n := 0
		if len(os.Args) > 3 {
			n, _ = strconv.Atoi(os.Args[3])
		}
		err = memdb(os.Args[2], n)
	case "serve":
		err = serve(os.Args[2])
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "hostilegen:", err)
		os.Exit(1)
	}
}

// pdf is pdfgen.Classic with extra written just before the trailer.
func pdf(objs []string, extra string) string {
	return strings.Replace(string(pdfgen.Classic(objs, 0)), "trailer\n", extra+"trailer\n", 1)
}

// xrefStreamPDF is a PDF 1.5 whose cross-reference stream's dictionary
// has dict in place of "/Size 5 /W [1 4 2]".
func xrefStreamPDF(dict string) string {
	s := string(pdfgen.ObjStm("/N 1 /First 4", "2 0 << /Type /Pages /Kids [] /Count 1 >>"))
	return strings.Replace(s, "/Size 5 /W [1 4 2]", dict, 1)
}

func pdfs(dir string) error {
	const huge = "1099511627776" // 2^40
	text := "BT /F1 12 Tf 72 712 Td (The good PDF says zqxgood about rivers.) Tj ET"
	good := pdf([]string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(text), text),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"}, "")
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write([]byte("\x02BT (x) Tj ET"))
	zw.Close()
	predicted := func(columns string) string {
		s := fmt.Sprintf("<< /Length %d /Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns %s >> >>\nstream\n%s\nendstream", z.Len(), columns, z.Bytes())
		return pdf([]string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
			"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>", s}, "")
	}
	classic := []string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [] /Count 0 >>"}
	files := map[string]string{
		"good.pdf":                good,
		"xref-size-2p40.pdf":      xrefStreamPDF("/Size " + huge + " /W [1 4 2]"),
		"xref-size-2p32.pdf":      xrefStreamPDF("/Size 4294967296 /W [1 4 2]"),
		"xref-w-2p40.pdf":         xrefStreamPDF("/Size 5 /W [1 " + huge + " 2]"),
		"xref-w-sum-wraps.pdf":    xrefStreamPDF("/Size 5 /W [9223372036854775807 9223372036854775807 2]"),
		"xref-index-2p40.pdf":     xrefStreamPDF("/Size 5 /Index [" + huge + " 1] /W [1 4 2]"),
		"xref-index-count.pdf":    xrefStreamPDF("/Size 5 /Index [0 " + huge + "] /W [1 4 2]"),
		"subsection-2p40.pdf":     pdf(classic, huge+" 1\n0000000009 00000 n \n"),
		"subsection-count.pdf":    pdf(classic, "3 "+huge+"\n0000000009 00000 n \n"),
		"predictor-cols-2p40.pdf": predicted(huge),
		"predictor-cols-2p32.pdf": predicted("4294967296 /Colors 255 /BitsPerComponent 16"),
		"predictor-colors.pdf":    predicted("1 /Colors " + huge),
		"predictor-bpc.pdf":       predicted("1 /BitsPerComponent " + huge),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// memdb writes DIR/sound (a memory of facts and 400 interactions, enough
// for a branch page), the named damages of memory/damaged_test.go as
// DIR/NAME/, and n copies with random bytes overwritten as DIR/rand-I/.
func memdb(dir string, n int) error {
	src := filepath.Join(dir, "sound")
	s, err := memory.Open(src)
	if err != nil {
		return err
	}
	for i := range 5 {
		s.AddFact(memory.Fact{Topic: "topic", Key: fmt.Sprint("key", i), Value: "value"})
	}
	for i := range 400 {
		e, err := s.AddEpisode(memory.Episode{Query: fmt.Sprintf("question %d about entropy", i), Response: strings.Repeat("a reply ", 10)})
		if err != nil {
			return err
		}
		if err := s.AppendLog(e); err != nil {
			return err
		}
	}
	sound, err := os.ReadFile(filepath.Join(src, "memory.db"))
	if err != nil {
		return err
	}
	logged, err := os.ReadFile(filepath.Join(src, "interactions.jsonl"))
	if err != nil {
		return err
	}
	pages, err := livePages(filepath.Join(src, "memory.db"))
	if err != nil {
		return err
	}
	ps := os.Getpagesize()
	le := binary.LittleEndian
	first := func(typ string) int {
		for _, p := range pages {
			if p.typ == typ {
				return p.id
			}
		}
		panic("no " + typ + " page in the sound memory")
	}
	metaOf := func(db []byte) int { // the meta page bbolt uses: the higher txid
		if le.Uint64(db[ps+16+48:]) > le.Uint64(db[16+48:]) {
			return 1
		}
		return 0
	}
	damages := map[string]func(db []byte) []byte{
		"branch-past-file": func(db []byte) []byte { le.PutUint64(db[first("branch")*ps+16+8:], 1<<40); return db },
		"branch-to-self": func(db []byte) []byte {
			b := first("branch")
			le.PutUint64(db[b*ps+16+8:], uint64(b))
			return db
		},
		"leaf-65535-elements":  func(db []byte) []byte { le.PutUint16(db[first("leaf")*ps+10:], 0xFFFF); return db },
		"leaf-key-offset-2p31": func(db []byte) []byte { le.PutUint32(db[first("leaf")*ps+16+4:], 1<<31); return db },
		"leaf-overflow-2p20":   func(db []byte) []byte { le.PutUint32(db[first("leaf")*ps+12:], 1<<20); return db },
		"zeroed-leaf":          func(db []byte) []byte { clear(db[first("leaf")*ps:][:ps]); return db },
		"freelist-2p40": func(db []byte) []byte {
			m := metaOf(db)
			f := int(le.Uint64(db[m*ps+16+32:]))
			le.PutUint16(db[f*ps+10:], 0xFFFF)
			le.PutUint64(db[f*ps+16:], 1<<40)
			return db
		},
		"truncated-half":   func(db []byte) []byte { return db[:len(db)/2] },
		"metas-zeroed":     func(db []byte) []byte { clear(db[:2*ps]); return db },
		"all-leaves-zero":  func(db []byte) []byte { zeroAll(db, pages, ps, "leaf"); return db },
		"unsorted-keys":    func(db []byte) []byte { reverseLeafKeys(db, pages, ps); return db },
		"grown-to-2x-junk": func(db []byte) []byte { return append(db, bytes.Repeat([]byte{0xAB}, len(db))...) },
	}
	write := func(name string, db []byte) error {
		d := filepath.Join(dir, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(d, "memory.db"), db, 0o644); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(d, "interactions.jsonl"), logged, 0o644)
	}
	for name, damage := range damages {
		if err := write(name, damage(append([]byte(nil), sound...))); err != nil {
			return err
		}
	}
	// Random damage past the meta pages: 1-64 runs of 1-16 random bytes,
	// half of them at the start of a live page (its header and elements).
	r := rand.New(rand.NewPCG(29, 2026))
	for i := range n {
		db := append([]byte(nil), sound...)
		for range 1 + r.IntN(64) {
			at := 2*ps + r.IntN(len(db)-2*ps)
			if r.IntN(2) == 0 {
				at = pages[r.IntN(len(pages))].id*ps + r.IntN(64)
			}
			for k := range 1 + r.IntN(16) {
				if at+k < len(db) {
					db[at+k] = byte(r.Uint32())
				}
			}
		}
		if err := write(fmt.Sprintf("rand-%03d", i), db); err != nil {
			return err
		}
	}
	return nil
}

type livePage struct {
	id  int
	typ string
}

// livePages lists the pages of the current tree (bbolt says which are
// free), branch and leaf only.
func livePages(path string) ([]livePage, error) {
	db, err := bolt.Open(path, 0o644, &bolt.Options{ReadOnly: true, PreLoadFreelist: true})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var out []livePage
	err = db.View(func(tx *bolt.Tx) error {
		for id := 2; ; id++ {
			p, err := tx.Page(id)
			if err != nil {
				return err
			}
			if p == nil {
				return nil
			}
			if p.Type == "branch" || p.Type == "leaf" {
				out = append(out, livePage{p.ID, p.Type})
			}
		}
	})
	return out, err
}

func zeroAll(db []byte, pages []livePage, ps int, typ string) {
	for _, p := range pages {
		if p.typ == typ {
			clear(db[p.id*ps+16 : (p.id+1)*ps])
		}
	}
}

// reverseLeafKeys reverses the order of each live leaf's elements (keys
// out of order: bbolt's binary searches go wrong; the checker does not
// compare keys).
func reverseLeafKeys(db []byte, pages []livePage, ps int) {
	le := binary.LittleEndian
	for _, p := range pages {
		if p.typ != "leaf" {
			continue
		}
		base := p.id * ps
		n := int(le.Uint16(db[base+10:]))
		for i, j := 0, n-1; i < j; i, j = i+1, j-1 {
			a, b := base+16+i*16, base+16+j*16
			ea, eb := append([]byte(nil), db[a:a+16]...), append([]byte(nil), db[b:b+16]...)
			// positions are relative to each element: move them with it
			pa, pb := le.Uint32(ea[4:]), le.Uint32(eb[4:])
			le.PutUint32(ea[4:], uint32(int(pa)+a-b))
			le.PutUint32(eb[4:], uint32(int(pb)+b-a))
			copy(db[a:], eb)
			copy(db[b:], ea)
		}
	}
}

// serve listens on 127.0.0.1 and 127.0.0.2 (loopback only) and writes
// "PORT1 PORT2" to file. 127.0.0.1 serves the redirects, an 8 MB
// windows-1252 page and a minimal OpenAI-compatible API (for chat's
// preflight and one reply); 127.0.0.2 stands for a private service.
func serve(file string) error {
	l1, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	l2, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		return err
	}
	p1, p2 := l1.Addr().(*net.TCPAddr).Port, l2.Addr().(*net.TCPAddr).Port
	euro := bytes.Repeat([]byte("\x80"), 8<<20)
	mux := http.NewServeMux()
	mux.HandleFunc("/to-private", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, fmt.Sprintf("http://127.0.0.2:%d/secret", p2), http.StatusFound)
	})
	mux.HandleFunc("/to-name", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, fmt.Sprintf("http://localhost:%d/page", p1), http.StatusFound)
	})
	mux.HandleFunc("/to-decimal", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, fmt.Sprintf("http://2130706434:%d/secret", p2), http.StatusFound) // 127.0.0.2
	})
	mux.HandleFunc("/to-mapped", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, fmt.Sprintf("http://[::ffff:127.0.0.2]:%d/secret", p2), http.StatusFound)
	})
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<html><body><p>A public page that says zqxpublic about rivers and mills.</p></body></html>")
	})
	mux.HandleFunc("/cp1252", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=windows-1252")
		w.Write(euro)
	})
	mux.HandleFunc("/v1/models", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"object":"list","data":[{"id":"stub","object":"model"}]}`)
	})
	mux.HandleFunc("/v1/chat/completions", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"id":"c1","object":"chat.completion","model":"stub","choices":[{"index":0,"finish_reason":"stop",`+
			`"message":{"role":"assistant","content":"A stub reply about entropy."}}],"usage":{"prompt_tokens":10,"completion_tokens":6,"total_tokens":16}}`)
	})
	secret := http.NewServeMux()
	secret.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<html><body><p>The secret of the private service: zqxsecret.</p></body></html>")
	})
	go http.Serve(l2, secret)
	if err := os.WriteFile(file+".tmp", fmt.Appendf(nil, "%d %d\n", p1, p2), 0o644); err != nil {
		return err
	}
	if err := os.Rename(file+".tmp", file); err != nil {
		return err
	}
	return http.Serve(l1, mux)
}
