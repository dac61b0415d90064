package dtsim

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

//go:embed web/index.html
var webFS embed.FS

// page serves the simulator's web page.
func (s *Sim) page(w http.ResponseWriter, r *http.Request) {
	b, _ := webFS.ReadFile("web/index.html")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b)
}

// ListenAndServe serves s on addr until ctx is done, in the background. It
// returns the simulator's base URL once it listens.
func ListenAndServe(ctx context.Context, addr string, s *Sim) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("dtsim listen %s: %w", addr, err)
	}
	// No read or write timeout: the stream connections it upgrades live for
	// hours. Idle keep-alives are closed.
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() {
		<-ctx.Done()
		s.Close()
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Println("dtsim:", err)
		}
	}()
	return "http://" + ln.Addr().String(), nil
}
