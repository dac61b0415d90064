package exit

import (
	"strings"
	"time"

	"hehuo/internal/civil"
)

func contains(s, sub string) bool { return strings.Contains(s, strings.TrimSpace(sub)) }

func shanghai() *time.Location { return civil.Shanghai }
