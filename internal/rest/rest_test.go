package rest

import (
	"net/http"
	"testing"
	"time"
)

func TestRetryDelay(t *testing.T) {
	cases := []struct {
		h    http.Header
		min  time.Duration
		max  time.Duration
		name string
	}{
		{http.Header{"Retry-After": {"2"}}, 2 * time.Second, 2 * time.Second, "seconds"},
		{http.Header{"Retry-After-Ms": {"250"}, "Retry-After": {"9"}}, 250 * time.Millisecond, 250 * time.Millisecond, "ms first"},
		{http.Header{"Retry-After": {time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat)}}, time.Second, 3 * time.Second, "date"},
		{http.Header{"Retry-After": {"3600"}}, 375 * time.Millisecond, 500 * time.Millisecond, "over a minute: backoff"},
		{nil, 375 * time.Millisecond, 500 * time.Millisecond, "none"},
	}
	for _, c := range cases {
		if d := RetryDelay(c.h, 0); d < c.min || d > c.max {
			t.Errorf("%s: %v not in [%v, %v]", c.name, d, c.min, c.max)
		}
	}
	if d := RetryDelay(nil, 10); d > 8*time.Second || d < 6*time.Second {
		t.Errorf("backoff cap: %v", d)
	}
}
