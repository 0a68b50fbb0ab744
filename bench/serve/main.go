package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alisw/alilogin/internal/policy"
	"github.com/alisw/alilogin/internal/serve"
)

type nopReconciler struct{}

func (nopReconciler) Reconcile(context.Context, *policy.Config) (serve.Outcome, error) {
	return serve.Outcome{}, nil
}

func main() {
	n := flag.Int("n", 10000, "requests per path")
	c := flag.Int("c", 50, "concurrent clients")
	target := flag.String("url", "", "base URL of a running broker (default: start one in-process)")
	dir := flag.String("policies", "policies", "policies folder for the in-process broker")
	flag.Parse()
	if err := run(*n, *c, *target, *dir); err != nil {
		fmt.Fprintf(os.Stderr, "bench/serve: %v\n", err)
		os.Exit(1)
	}
}

func run(n, c int, target, dir string) error {
	if n <= 0 || c <= 0 {
		return errors.New("-n and -c must be positive")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if target == "" {
		srv, err := serve.New(serve.Options{Dir: dir, Load: policy.Load, Reconciler: nopReconciler{},
			Public: serve.Public{VaultAddr: "https://vault.example:8200"}, Interval: time.Hour})
		if err != nil {
			return err
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		hs := &http.Server{Handler: srv.Handler()}
		go func() { _ = hs.Serve(ln) }()
		defer hs.Close()
		go func() { _ = srv.Run(ctx) }()
		target = "http://" + ln.Addr().String()
		// Wait for the first load.
		deadline := time.Now().Add(10 * time.Second)
		for {
			resp, err := http.Get(target + "/v1/discovery")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					break
				}
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("the in-process broker did not load %s", dir)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	fmt.Printf("target %s, %d requests per path, %d concurrent, GOMAXPROCS %d\n", target, n, c, runtime.GOMAXPROCS(0))
	failed := false
	for _, path := range []string{"/v1/discovery", "/metrics"} {
		r := load(target+path, n, c)
		fmt.Printf("%-14s %8.0f req/s  p50 %-9s p99 %-9s max %-9s  %d errors  %.1f MB read\n", path, r.rps,
			r.p50.Round(time.Microsecond), r.p99.Round(time.Microsecond), r.max.Round(time.Microsecond), r.errors, float64(r.bytes)/1e6)
		if r.errors > 0 {
			failed = true
			fmt.Printf("  first error: %v\n", r.firstErr)
		}
	}
	if failed {
		return errors.New("some requests failed")
	}
	return nil
}

type result struct {
	rps           float64
	p50, p99, max time.Duration
	errors        int64
	firstErr      error
	bytes         int64
}

func load(url string, n, c int) result {
	tr := &http.Transport{MaxIdleConnsPerHost: c, MaxConnsPerHost: c}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var (
		next     atomic.Int64
		errs     atomic.Int64
		bytes    atomic.Int64
		errOnce  sync.Once
		firstErr error
		wg       sync.WaitGroup
	)
	lat := make([]time.Duration, n)
	t0 := time.Now()
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				s := time.Now()
				resp, err := client.Get(url)
				if err == nil {
					var k int64
					k, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					bytes.Add(k)
					if err == nil && resp.StatusCode != 200 {
						err = fmt.Errorf("%s: %s", url, resp.Status)
					}
				}
				lat[i] = time.Since(s)
				if err != nil {
					errs.Add(1)
					errOnce.Do(func() { firstErr = err })
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(t0)
	slices.Sort(lat)
	return result{rps: float64(n) / el.Seconds(), p50: lat[n/2], p99: lat[n*99/100], max: lat[n-1],
		errors: errs.Load(), firstErr: firstErr, bytes: bytes.Load()}
}
