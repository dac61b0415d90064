// Package calc is the pure arithmetic of RULES.md (R1 sizing, R3 allocation,
// …) with a trace for every figure. It does no I/O and imports nothing of
// the project but internal/money, the decimal rounding and largest-remainder
// split every rule shares.
package calc
