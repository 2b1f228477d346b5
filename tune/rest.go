package tune

import (
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

// bodyFunc makes a request body for one attempt (so that a retry sends it
// again); done releases it.
type bodyFunc func() (r io.Reader, contentType string, done func(), err error)

// restClient sends JSON requests to an HTTP API with the retries the
// official SDKs make: a connection that failed, 408, 409, 429 and 5xx (or
// x-should-retry: true) are tried again after the service's Retry-After-Ms
// or Retry-After (up to a minute), else after a backoff from 0.5 s doubling
// to 8 s with jitter.
type restClient struct {
	base   string
	header http.Header
	// token, when set, gives the bearer token of each request.
	token     func(ctx context.Context) (string, error)
	hc        *http.Client
	decodeErr func(status int, body []byte) *APIError
	// retries is the most attempts after the first (default 4).
	retries int
}

// maxResponse bounds a response body read into memory.
const maxResponse = 64 << 20

func (c *restClient) do(ctx context.Context, method, path string, body bodyFunc, out any) error {
	retries := c.retries
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
			return c.decodeErr(status, b)
		}
		if err := sleep(ctx, retryDelay(hdr, attempt)); err != nil {
			return err
		}
	}
}

func (c *restClient) once(ctx context.Context, method, path string, body bodyFunc) (int, http.Header, []byte, error) {
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
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return 0, nil, nil, err
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	if c.token != nil {
		tok, err := c.token(ctx)
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
	res, err := c.hc.Do(req)
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

// retryDelay is the wait before attempt+1: the service's Retry-After-Ms or
// Retry-After when it sent one up to a minute, else the backoff.
func retryDelay(h http.Header, attempt int) time.Duration {
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
