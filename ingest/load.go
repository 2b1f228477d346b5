package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"golang.org/x/net/html/charset"
)

// load reads a file, stdin or URL, capped at opt.MaxBytes.
func load(ctx context.Context, src string, opt Options) ([]byte, string, error) {
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		return fetch(ctx, src, opt)
	}
	var r io.Reader
	if src == "-" {
		r = os.Stdin
	} else {
		// A named pipe, device or socket would block or never end: only
		// regular files are read (a FIFO given as a source blocked forever).
		if st, err := os.Stat(src); err == nil && !st.Mode().IsRegular() && !st.IsDir() {
			return nil, "", fmt.Errorf("not a regular file (%s): skipped; give its contents on standard input (-) instead", fileType(st.Mode()))
		}
		f, err := openFile(ctx, src) // a file or a bucket object
		if err != nil {
			return nil, "", err
		}
		defer f.Close()
		r = f
	}
	br := bufio.NewReader(r)
	limit := opt.MaxBytes
	gz := false
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, "", fmt.Errorf("gzip: %w", err)
		}
		r, gz = zr, true

		// What is inflated is held: it may not pass the document's memory
		// budget (four 200 MB inflations at --doc-memory-mb 100 took 2.9 GB
		// before the budget was looked at).
		if mem := int64(opt.Limits.MemoryMB) << 20; mem > 0 && mem < limit {
			limit = mem
		}
	} else {
		r = br
	}
	var b []byte
	var err error
	if gz && opt.inflating != nil {
		b, err = opt.inflating.readAll(io.LimitReader(r, limit+1))
	} else {
		b, err = io.ReadAll(io.LimitReader(r, limit+1))
	}
	if err != nil {
		return nil, "", fmt.Errorf("read: %w", err)
	}
	if int64(len(b)) > limit {
		if gz && limit < opt.MaxBytes {
			return nil, "", fmt.Errorf("%w: it inflates to more than its memory budget of %d MB (raise it with --doc-memory-mb or ingest: doc_memory_mb)", ErrBudget, limit>>20)
		}
		return nil, "", fmt.Errorf("larger than %d MB", limit>>20)
	}
	return b, "", nil
}

// inflateHold takes what a compressed file inflates to from the run's
// memory (see Budget.Hold) before it is allocated: four 200 MB inflations
// at once took 1.46 GB when only their compressed size had been.
type inflateHold struct {
	hold func(int64) error
	n    int64 // bytes held
}

// readAll is io.ReadAll holding each buffer before it is made: every
// buffer of the doublings, the ones left behind included (they are garbage
// only once the collector runs).
func (h *inflateHold) readAll(r io.Reader) ([]byte, error) {
	var b []byte
	for {
		if len(b) == cap(b) {
			c := max(64<<10, 2*cap(b))
			if err := h.hold(int64(c)); err != nil {
				return nil, err
			}
			h.n += int64(c)
			b = append(make([]byte, 0, c), b...)
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// localSize is the size of a local regular file (0 for anything else).
func localSize(src string) int64 {
	if src == "-" || strings.Contains(src, "://") {
		return 0
	}
	if st, err := os.Stat(src); err == nil && st.Mode().IsRegular() {
		return st.Size()
	}
	return 0
}

// fileType names a file that is not regular.
func fileType(m os.FileMode) string {
	switch {
	case m&os.ModeSymlink != 0:
		return "a symbolic link"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return "not a regular file"
}

const maxURLBytes = 20 << 20

var fetchable = []string{"text/html", "application/xhtml", "application/pdf", "text/plain", "text/markdown", "text/vtt", "application/x-subrip", "text/srt", "application/json"}

func fetch(ctx context.Context, u string, opt Options) ([]byte, string, error) {
	pu, err := url.Parse(u)
	if err != nil {
		return nil, "", err
	}
	ctx = context.WithValue(ctx, userHostKey{}, pu.Hostname())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("User-Agent", "tuneline (+https://github.com/tuneline/tuneline)")
	req.Header.Set("Accept", "text/html,application/xhtml+xml,application/pdf,text/plain;q=0.9,*/*;q=0.5")
	resp, err := opt.HTTP.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("fetch: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, "", fmt.Errorf("fetch: HTTP %s", resp.Status)
	}
	ct := resp.Header.Get("Content-Type")
	ok := ct == ""
	for _, f := range fetchable {
		ok = ok || strings.HasPrefix(strings.ToLower(ct), f)
	}
	if !ok {
		return nil, "", fmt.Errorf("fetch: content type %q is not a page, PDF, text or transcript", ct)
	}
	// The limit is on the bytes received: transcoded to UTF-8, an 8 MB
	// windows-1252 page grew past 20 MB and was refused.
	limit := min(opt.MaxBytes, maxURLBytes)
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, "", fmt.Errorf("fetch: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, "", fmt.Errorf("fetch: larger than %d MB", limit>>20)
	}
	if strings.Contains(ct, "text/") || strings.Contains(ct, "html") {
		if r, err := charset.NewReader(bytes.NewReader(b), ct); err == nil {
			if u8, err := io.ReadAll(r); err == nil {
				b = u8
			}
		}
	}
	return b, ct, nil
}
