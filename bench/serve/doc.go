// Command serve is the loopback load test of `broker serve`'s HTTP side:
// GET /v1/discovery and GET /metrics, a fixed number of requests with a
// fixed concurrency, reporting requests/s, latency percentiles and errors.
//
// With no -url it starts a broker server in-process on 127.0.0.1 with the
// policies/ example and a reconciler that changes nothing (the HTTP side
// is what is measured; the reconcile loop does not run per request):
//
//	go run ./bench/serve                       # 10,000 requests per path, 50 concurrent
//	go run ./bench/serve -n 20000 -c 100
//	go run ./bench/serve -url http://127.0.0.1:8080   # a running broker
//
// It exits non-zero if any request failed.
package main
