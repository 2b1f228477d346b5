package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/tuneline/tuneline/internal/atomicfile"
)

// OpenAIError reads an error body in OpenAI's shape ({"error": {message,
// type, param, code}}), else takes the body as the message.
func OpenAIError(status int, body []byte) *APIError {
	var e struct {
		Error struct {
			Message string  `json:"message"`
			Type    string  `json:"type"`
			Param   *string `json:"param"`
			Code    *string `json:"code"`
		} `json:"error"`
	}
	out := &APIError{Status: status}
	if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
		out.Message = e.Error.Message
		if e.Error.Code != nil {
			out.Code = *e.Error.Code
		}
		return out
	}
	out.Message = strings.TrimSpace(string(body[:min(len(body), 300)]))
	return out
}

// MultipartFile is a multipart/form-data body of the fields and of the file
// at path (form name "file"), streamed from the file: each attempt reads it
// again. progress, when set, is told the bytes of the file sent so far.
func MultipartFile(path string, fields [][2]string, progress func(name string, done, total int64)) Body {
	return func() (io.Reader, string, func(), error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, "", nil, err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, "", nil, err
		}
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		go func() {
			var err error
			for _, kv := range fields {
				if err == nil {
					err = mw.WriteField(kv[0], kv[1])
				}
			}
			var part io.Writer
			if err == nil {
				part, err = mw.CreateFormFile("file", filepath.Base(path))
			}
			if err == nil {
				_, err = io.Copy(part, &countReader{r: f, total: st.Size(), name: path, report: progress})
			}
			if err == nil {
				err = mw.Close()
			}
			pw.CloseWithError(err)
		}()
		return pr, mw.FormDataContentType(), func() { pr.Close(); f.Close() }, nil
	}
}

type countReader struct {
	r           io.Reader
	done, total int64
	name        string
	report      func(string, int64, int64)
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.done += int64(n)
	if c.report != nil {
		c.report(c.name, c.done, c.total)
	}
	return n, err
}

// Download streams the body of GET path into the file dst (written
// atomically: it appears only whole), at most max bytes; a failed or cut
// transfer is tried again as Do tries.
func (c *Client) Download(ctx context.Context, path, dst string, max int64) error {
	retries := c.Retries
	if retries == 0 {
		retries = 4
	}
	for attempt := 0; ; attempt++ {
		hdr, retry, err := c.downloadOnce(ctx, path, dst, max)
		if err == nil || ctx.Err() != nil || !retry || attempt >= retries {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		if err := Sleep(ctx, RetryDelay(hdr, attempt)); err != nil {
			return err
		}
	}
}

// errTooBig is a download over its bound.
var errTooBig = errors.New("larger than allowed")

func (c *Client) downloadOnce(ctx context.Context, path, dst string, max int64) (http.Header, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base+path, nil)
	if err != nil {
		return nil, false, err
	}
	for k, v := range c.Header {
		req.Header[k] = v
	}
	if c.Token != nil {
		tok, err := c.Token(ctx)
		if err != nil {
			return nil, false, err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	req.Header.Set("User-Agent", "tuneline")
	res, err := c.HC.Do(req)
	if err != nil {
		return nil, true, err
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		s := res.StatusCode
		return res.Header, s == http.StatusRequestTimeout || s == http.StatusConflict || s == http.StatusTooManyRequests || s >= 500, c.DecodeErr(s, b)
	}
	f, err := atomicfile.Create(dst)
	if err != nil {
		return nil, false, err
	}
	n, err := io.Copy(f, io.LimitReader(res.Body, max+1))
	if err == nil && n > max {
		err = fmt.Errorf("GET %s: %w (%d bytes)", path, errTooBig, max)
		f.Abort()
		return nil, false, err
	}
	if err != nil {
		f.Abort()
		return res.Header, true, fmt.Errorf("GET %s: %w", path, err)
	}
	return nil, false, f.Commit()
}
