// Package rest sends requests to the HTTP APIs of hosted services (OpenAI,
// Vertex AI) with the retries their official SDKs make, and streams file
// uploads and downloads.
package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// APIError is a service's refusal: its HTTP status, its own message and
// what to do about it.
type APIError struct {
	Service string
	Status  int
	Code    string
	Message string
	Hint    string
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("%d %s", e.Status, e.Message)
	if e.Code != "" {
		s += " (" + e.Code + ")"
	}
	if e.Hint != "" {
		s += ": " + e.Hint
	}
	return s
}

// Body makes a request body for one attempt (so that a retry sends it
// again); done releases it.
type Body func() (r io.Reader, contentType string, done func(), err error)

// Client sends JSON requests to an HTTP API with the retries the
// official SDKs make: a connection that failed, 408, 409, 429 and 5xx (or
// x-should-retry: true) are tried again after the service's Retry-After-Ms
// or Retry-After (up to a minute), else after a backoff from 0.5 s doubling
// to 8 s with jitter.
type Client struct {
	Base   string
	Header http.Header
	// Token, when set, gives the bearer token of each request.
	Token func(ctx context.Context) (string, error)
	HC    *http.Client
	// DecodeErr reads the service's error body (it returns a non-nil error).
	DecodeErr func(status int, body []byte) error
	// Retries is the most attempts after the first (default 4).
	Retries int
}

// maxResponse bounds a response body read into memory.
const maxResponse = 64 << 20

// Do sends one request (again, while the failure is one to retry) and
// decodes a 2xx reply's JSON into out (when not nil).
func (c *Client) Do(ctx context.Context, method, path string, body Body, out any) error {
	retries := c.Retries
	if retries == 0 {
		retries = 4
	}
	for attempt := 0; ; attempt++ {
		status, hdr, b, err := c.once(ctx, method, path, body)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var perm permanent
		if errors.As(err, &perm) {
			return perm.error
		}
		retry := err != nil // the connection failed
		if err == nil {
			switch hdr.Get("x-should-retry") {
			case "true":
				retry = true
			case "false":
			default:
				retry = status == http.StatusRequestTimeout || status == http.StatusConflict || status == http.StatusTooManyRequests || status >= 500
			}
			if status < 300 {
				if out == nil || len(b) == 0 {
					return nil
				}
				if err := json.Unmarshal(b, out); err != nil {
					return fmt.Errorf("%s %s: reading the reply: %w", method, path, err)
				}
				return nil
			}
		}
		if !retry || attempt >= retries {
			if err != nil {
				return err
			}
			return c.DecodeErr(status, b)
		}
		if err := Sleep(ctx, RetryDelay(hdr, attempt)); err != nil {
			return err
		}
	}
}

func (c *Client) once(ctx context.Context, method, path string, body Body) (int, http.Header, []byte, error) {
	var r io.Reader
	ct := ""
	if body != nil {
		var done func()
		var err error
		r, ct, done, err = body()
		if err != nil {
			return 0, nil, nil, err
		}
		defer done()
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, r)
	if err != nil {
		return 0, nil, nil, err
	}
	for k, v := range c.Header {
		req.Header[k] = v
	}
	if c.Token != nil {
		tok, err := c.Token(ctx)
		if err != nil {
			return 0, nil, nil, permanent{err}
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "tuneline")
	res, err := c.HC.Do(req)
	if err != nil {
		return 0, http.Header{}, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxResponse))
	if err != nil {
		return 0, http.Header{}, nil, err
	}
	return res.StatusCode, res.Header, b, nil
}

// permanent is an error another attempt would not mend.
type permanent struct{ error }

// RetryDelay is the wait before attempt+1: the service's Retry-After-Ms or
// Retry-After when it sent one up to a minute, else the backoff.
func RetryDelay(h http.Header, attempt int) time.Duration {
	if h != nil {
		if ms, err := strconv.ParseFloat(h.Get("Retry-After-Ms"), 64); err == nil && ms >= 0 && ms <= 60000 {
			return time.Duration(ms * float64(time.Millisecond))
		}
		if d, ok := parseRetryAfter(h.Get("Retry-After")); ok {
			return d
		}
	}
	d := min(500*time.Millisecond<<attempt, 8*time.Second)
	return time.Duration(float64(d) * (1 - 0.25*rand.Float64()))
}

// parseRetryAfter reads a Retry-After header, seconds or an HTTP date; a
// wait over a minute is not taken (the backoff is used).
func parseRetryAfter(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 0 {
		d = time.Duration(n * float64(time.Second))
	} else if t, err := http.ParseTime(v); err == nil {
		d = max(time.Until(t), 0)
	} else {
		return 0, false
	}
	if d > time.Minute {
		return 0, false
	}
	return d, true
}

// Sleep waits d or until ctx ends.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// JSON is a request body of v as JSON.
func JSON(v any) Body {
	b, err := json.Marshal(v)
	return func() (io.Reader, string, func(), error) {
		return bytes.NewReader(b), "application/json", func() {}, err
	}
}
