package serve

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDashboardMetricsExist checks that every broker metric the Grafana
// dashboard and the alerts in operations.md query exists.
func TestDashboardMetricsExist(t *testing.T) {
	m := NewMetrics()
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, f := range families {
		have[f.GetName()] = true
	}
	re := regexp.MustCompile(`alilogin_broker_[a-z_]+`)
	for _, file := range []string{"../../docs/deploy/grafana-dashboard.json", "../../docs/deploy/operations.md"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range re.FindAllString(string(b), -1) {
			base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_count"), "_sum")
			if !have[base] {
				t.Errorf("%s uses %s, which the broker does not export", file, name)
			}
		}
	}
}
