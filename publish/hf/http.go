package hf

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// apiError is a Hub answer that is not a success.
type apiError struct {
	Status  int
	Message string // the Hub's "error" field, or the body
	Op      string
	Hint    string
}

func (e *apiError) Error() string {
	s := fmt.Sprintf("%s: %d %s", e.Op, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

// StatusCode is the HTTP status of a Hub error in err's chain, or 0.
func StatusCode(err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

func (c *client) newError(op string, resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	msg := strings.TrimSpace(string(b))
	var j struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &j) == nil && (j.Error != "" || j.Message != "") {
		msg = j.Error + j.Message
	}
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	e := &apiError{Status: resp.StatusCode, Message: msg, Op: op}
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		e.Hint = fmt.Sprintf("the token from %s was refused: it is wrong, expired or revoked; make one with write access at %s/settings/tokens and set HF_TOKEN (or run `hf auth login`)", c.TokenSource, c.Endpoint)
	case http.StatusForbidden:
		e.Hint = fmt.Sprintf("the token from %s may not write to datasets/%s: give it write access to that namespace (a fine-grained token needs repo write permission) or publish under your own user", c.TokenSource, c.repo)
	case http.StatusNotFound:
		e.Hint = fmt.Sprintf("datasets/%s or its revision %q was not found: check NAMESPACE/NAME and that the token from %s can see it", c.repo, c.Revision, c.TokenSource)
	case http.StatusConflict, http.StatusPreconditionFailed:
		e.Hint = "the repo changed while publishing (another writer): run the command again"
	case http.StatusTooManyRequests:
		e.Hint = fmt.Sprintf("the Hub is rate-limiting this token after %d retries: wait a few minutes and run again", c.Retries)
	default:
		if resp.StatusCode >= 500 {
			e.Hint = fmt.Sprintf("the Hub failed %d times in a row: try again later", c.Retries+1)
		}
	}
	return e
}

// do sends the request build makes, again on a dropped connection, 429
// (after Retry-After) and 5xx (after a doubling backoff), and returns the
// last answer; the caller closes its body.
func (c *client) do(ctx context.Context, op string, build func() (*http.Request, error)) (*http.Response, error) {
	wait := c.Backoff
	for attempt := 0; ; attempt++ {
		req, err := build()
		if err != nil {
			return nil, err
		}
		req = req.WithContext(ctx)
		if req.Header.Get("Authorization") == "" && strings.HasPrefix(req.URL.String(), c.Endpoint+"/") {
			req.Header.Set("Authorization", "Bearer "+c.Token)
		}
		req.Header.Set("User-Agent", "tuneline")
		resp, err := c.HTTP.Do(req)
		var why string
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			why = "connection failed: " + scrub(err.Error())
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
			why = resp.Status
		default:
			return resp, nil
		}
		if attempt >= c.Retries {
			if err != nil {
				return nil, fmt.Errorf("%s: %s (after %d retries)", op, why, c.Retries)
			}
			return resp, nil
		}
		d := wait
		if resp != nil {
			if ra := retryAfter(resp.Header.Get("Retry-After")); ra > 0 {
				d = ra
			}
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		if c.Log != nil {
			fmt.Fprintf(c.Log, "hf: %s: %s; retrying in %s (%d of %d)\n", op, why, d.Round(time.Millisecond), attempt+1, c.Retries)
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		wait = min(wait*2, 30*time.Second)
	}
}

// scrub keeps URLs' query strings (signed upload URLs carry credentials)
// out of messages.
func scrub(s string) string {
	for _, f := range strings.Fields(s) {
		f = strings.Trim(f, `"':,`)
		if u, err := url.Parse(f); err == nil && u.RawQuery != "" && u.Host != "" {
			s = strings.ReplaceAll(s, f, u.Scheme+"://"+u.Host+u.Path)
		}
	}
	return s
}

func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

func jsonRequest(method, u string, body any) func() (*http.Request, error) {
	return func() (*http.Request, error) {
		var r io.Reader
		if body != nil {
			b, err := json.Marshal(body)
			if err != nil {
				return nil, err
			}
			r = bytes.NewReader(b)
		}
		req, err := http.NewRequest(method, u, r)
		if err != nil {
			return nil, err
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		return req, nil
	}
}

func (c *client) getJSON(ctx context.Context, op string, build func() (*http.Request, error), ok func(int) bool, v any) (int, error) {
	resp, err := c.do(ctx, op, build)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if !ok(resp.StatusCode) {
		return resp.StatusCode, c.newError(op, resp)
	}
	if v != nil {
		if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(v); err != nil {
			return resp.StatusCode, fmt.Errorf("%s: the Hub's answer: %w", op, err)
		}
	}
	return resp.StatusCode, nil
}

func is2xx(s int) bool { return s/100 == 2 }
