// Package calc is the pure arithmetic of RULES.md (R1 sizing, R3 allocation,
// …) with a trace for every figure. It imports nothing of the project.
package calc
