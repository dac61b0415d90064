// Package migrations holds the SQL migrations, embedded into the binary.
// Files are goose migrations named NNNNN_what.sql; each business area adds its own.
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
