//go:build race

package datasets

// The race detector's instrumentation allocates; allocation counts are
// asserted only without it.
const raceEnabled = true
