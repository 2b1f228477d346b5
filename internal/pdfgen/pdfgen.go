// Package pdfgen writes small PDFs from object bodies, for tests and
// benchmarks that need a PDF of a given shape (hostile ones included).
package pdfgen

import (
	"bytes"
	"fmt"
	"strings"
)

// Classic writes a PDF of the given object bodies (numbered from 1) with
// a cross-reference table; prev, when not 0, is written as the trailer's
// /Prev (-1: the offset of this very table).
func Classic(objs []string, prev int) []byte {
	var b strings.Builder
	b.WriteString("%PDF-1.4\n")
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R", len(objs)+1)
	if prev == -1 {
		prev = xref
	}
	if prev != 0 {
		fmt.Fprintf(&b, " /Prev %d", prev)
	}
	fmt.Fprintf(&b, " >>\nstartxref\n%d\n%%%%EOF\n", xref)
	return []byte(b.String())
}

// ObjStm writes a PDF 1.5 whose page tree node (object 2) is to be
// found in object stream 3, which has the given body and stream data,
// with an uncompressed cross-reference stream.
func ObjStm(stmDict, stmData string) []byte {
	var b strings.Builder
	b.WriteString("%PDF-1.5\n")
	off := map[int]int{}
	obj := func(n int, body string) {
		off[n] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", n, body)
	}
	obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	obj(3, fmt.Sprintf("<< /Type /ObjStm %s /Length %d >>\nstream\n%s\nendstream", stmDict, len(stmData), stmData))
	var x bytes.Buffer
	entry := func(typ byte, a uint32, c uint16) {
		x.WriteByte(typ)
		x.Write([]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)})
		x.Write([]byte{byte(c >> 8), byte(c)})
	}
	xrefAt := b.Len()
	entry(0, 0, 65535)
	entry(1, uint32(off[1]), 0)
	entry(2, 3, 0) // object 2: in stream 3, index 0
	entry(1, uint32(off[3]), 0)
	entry(1, uint32(xrefAt), 0)
	fmt.Fprintf(&b, "4 0 obj\n<< /Type /XRef /Size 5 /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n%s\nendstream\nendobj\n", x.Len(), x.Bytes())
	fmt.Fprintf(&b, "startxref\n%d\n%%%%EOF\n", xrefAt)
	return []byte(b.String())
}
