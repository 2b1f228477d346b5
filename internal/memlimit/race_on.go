//go:build race

package memlimit

// raceEnabled: the race detector reserves terabytes of address space for
// its shadow memory, so Bounded cannot limit it.
const raceEnabled = true
