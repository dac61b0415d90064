// Package web holds the built front end (PC console under /, H5 micro-app
// under /m/), embedded into the binary. `make build` fills dist/; a committed
// placeholder keeps the package compiling on a clean clone.
package web

import "embed"

// Dist is the Vite build output.
//
//go:embed all:dist
var Dist embed.FS
