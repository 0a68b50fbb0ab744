package serve

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Systems are the label values of the per-system metrics.
var Systems = []string{"vault", "nomad", "consul"}

// Metrics are the broker's Prometheus metrics, on their own registry.
type Metrics struct {
	Registry *prometheus.Registry

	ReconcileRuns     *prometheus.CounterVec // result=ok|error
	ReconcileDuration prometheus.Histogram
	Errors            *prometheus.CounterVec // stage=load|reconcile|reap|probe
	DriftFound        *prometheus.CounterVec // system
	DriftFixed        *prometheus.CounterVec // system
	TokensReaped      *prometheus.CounterVec // system
	ReapRuns          *prometheus.CounterVec // result=ok|error: passes of the reaper
	OrphansFound      *prometheus.CounterVec // system (dry run included)
	LastSuccess       prometheus.Gauge
	ConfigGeneration  prometheus.Gauge
	ConfigValid       prometheus.Gauge
	Leader            prometheus.Gauge
	ServersUp         *prometheus.GaugeVec // system
	MassDeleteRefused prometheus.Counter   // plans refused by the mass-delete guard
	MassDeleteHeld    prometheus.Gauge     // 1 while the loaded folder's plan is refused
	DefaultPolicyOpen prometheus.Gauge     // 1 while Vault's default policy lets any token shorten the profiles' leases
}

const ns = "alilogin_broker"

// counterVec, gaugeVec, gauge and counter make the broker's series, each
// named alilogin_broker_NAME.
func counterVec(name, label, help string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: name, Help: help}, []string{label})
}

func gaugeVec(name, label, help string) *prometheus.GaugeVec {
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: name, Help: help}, []string{label})
}

func gauge(name, help string) prometheus.Gauge {
	return prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: name, Help: help})
}

func counter(name, help string) prometheus.Counter {
	return prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: name, Help: help})
}

// NewMetrics makes the metrics and registers them, with the Go runtime and
// process collectors, on a new registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		ReconcileRuns: counterVec("reconcile_runs_total", "result",
			"Reconcile runs (plan + apply of policies/), by result."),
		ReconcileDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "reconcile_duration_seconds",
			Help: "Duration of a reconcile run.", Buckets: prometheus.ExponentialBuckets(0.05, 2, 12)}),
		Errors: counterVec("errors_total", "stage",
			"Errors by stage: load (invalid policies/), reconcile, reap, probe (a server unreachable)."),
		DriftFound: counterVec("drift_found_total", "system",
			"Objects found different from policies/ (creates, updates, deletes planned), by system."),
		DriftFixed: counterVec("drift_fixed_total", "system",
			"Objects written to match policies/, by system."),
		TokensReaped: counterVec("tokens_reaped_total", "system",
			"Orphaned Vault-made ACL tokens deleted, by system."),
		ReapRuns: counterVec("reap_runs_total", "result",
			"Passes of the orphan-token reaper over Nomad and Consul, by result."),
		OrphansFound: counterVec("orphans_found_total", "system",
			"Orphaned Vault-made ACL tokens found (deleted or, in dry-run mode, only reported), by system."),
		LastSuccess: gauge("last_success_timestamp_seconds",
			"Unix time of the last successful reconcile run."),
		ConfigGeneration: gauge("config_generation",
			"Generation of the configuration in force; +1 on each good load that changed it."),
		ConfigValid: gauge("config_valid",
			"1 if the policies/ folder as it is now on disk loaded, 0 if the last good configuration is kept in force."),
		Leader: gauge("leader",
			"1 if this instance holds the leader lock (reconciles and reaps)."),
		ServersUp: gaugeVec("server_up", "system",
			"1 if the last probe reached the server, by system."),
		MassDeleteRefused: counter("mass_delete_refused_total",
			"Reconcile runs whose plan the mass-delete guard refused (more than half of the managed objects, or all of a kind, to delete)."),
		MassDeleteHeld: gauge("mass_delete_held",
			"1 while the loaded policies folder is not applied because its plan is a mass delete; the configuration in force before it is reconciled instead."),
		DefaultPolicyOpen: gauge("vault_default_policy_open",
			"1 while Vault's default policy lets every token renew (and so shorten to a second) the leases of the profiles' Nomad and Consul tokens, or could not be checked: it lacks the lease_id deny of docs/deploy/vault-default-policy-lease-deny.hcl. Set by the leader on each reconcile run."),
	}
	m.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.ReconcileRuns, m.ReconcileDuration, m.Errors, m.DriftFound, m.DriftFixed,
		m.TokensReaped, m.ReapRuns, m.OrphansFound, m.LastSuccess, m.ConfigGeneration, m.ConfigValid,
		m.Leader, m.ServersUp, m.MassDeleteRefused, m.MassDeleteHeld, m.DefaultPolicyOpen,
	)
	// Expose every series from the start, so that dashboards and alerts
	// see zeros rather than gaps.
	for _, r := range []string{"ok", "error"} {
		m.ReconcileRuns.WithLabelValues(r)
		m.ReapRuns.WithLabelValues(r)
	}
	for _, s := range []string{"load", "reconcile", "reap", "probe"} {
		m.Errors.WithLabelValues(s)
	}
	for _, s := range Systems {
		m.DriftFound.WithLabelValues(s)
		m.DriftFixed.WithLabelValues(s)
		m.ServersUp.WithLabelValues(s)
	}
	for _, s := range []string{"nomad", "consul"} {
		m.TokensReaped.WithLabelValues(s)
		m.OrphansFound.WithLabelValues(s)
	}
	return m
}

// Handler serves the registry in the Prometheus exposition format. The
// answer is a few kB: compressing it cost 3x the throughput in
// bench/serve for nothing a scrape every 15s would notice.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry, DisableCompression: true})
}
