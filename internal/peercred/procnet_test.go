package peercred

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Lines as a little-endian (x86) kernel prints them: 127.0.0.1 is
// 0100007F, ::1 is 00000000000000000000000001000000, ::ffff:127.0.0.1 is
// 0000000000000000FFFF00000100007F.
const (
	tcp4 = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 51234 1 0000000000000000 100 0 0 10 0
   1: 0100007F:D431 0100007F:1F90 01 00000000:00000000 00:00000000 00000000 65534        0 51240 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 51241 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:D432 0100007F:1F90 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000
   4: 0200007F:D433 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 51250 1 0000000000000000 20 4 30 10 -1
`
	tcp6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 61000 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000001000000:E000 00000000000000000000000001000000:1F91 01 00000000:00000000 00:00000000 00000000  1001        0 61001 1 0000000000000000 20 4 30 10 -1
   2: 0000000000000000FFFF00000100007F:E001 0000000000000000FFFF00000100007F:1F90 01 00000000:00000000 00:00000000 00000000  1002        0 61002 1 0000000000000000 20 4 30 10 -1
`
)

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func TestFindSockets(t *testing.T) {
	for _, tc := range []struct {
		name          string
		table         string
		local, remote string
		want          []socket
	}{
		{"the client end, not the accepted one", tcp4, "127.0.0.1:54321", "127.0.0.1:8080",
			[]socket{{local: ap("127.0.0.1:54321"), remote: ap("127.0.0.1:8080"), uid: 65534, inode: 51240}}},
		{"the accepted end", tcp4, "127.0.0.1:8080", "127.0.0.1:54321",
			[]socket{{local: ap("127.0.0.1:8080"), remote: ap("127.0.0.1:54321"), uid: 1000, inode: 51241}}},
		{"TIME_WAIT: uid 0, no inode", tcp4, "127.0.0.1:54322", "127.0.0.1:8080",
			[]socket{{local: ap("127.0.0.1:54322"), remote: ap("127.0.0.1:8080"), uid: 0, inode: 0}}},
		{"another loopback address", tcp4, "127.0.0.2:54323", "127.0.0.1:8080",
			[]socket{{local: ap("127.0.0.2:54323"), remote: ap("127.0.0.1:8080"), uid: 1000, inode: 51250}}},
		{"not there", tcp4, "127.0.0.1:1", "127.0.0.1:8080", nil},
		{"IPv6 loopback", tcp6, "[::1]:57344", "[::1]:8081",
			[]socket{{local: ap("[::1]:57344"), remote: ap("[::1]:8081"), uid: 1001, inode: 61001}}},
		{"IPv4-mapped, unmapped", tcp6, "127.0.0.1:57345", "127.0.0.1:8080",
			[]socket{{local: ap("127.0.0.1:57345"), remote: ap("127.0.0.1:8080"), uid: 1002, inode: 61002}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := findSockets(strings.NewReader(tc.table), binary.LittleEndian, ap(tc.local), ap(tc.remote))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(socket{}), cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestFindSocketsBigEndian: on a big-endian kernel 127.0.0.1 prints as
// 7F000001.
func TestFindSocketsBigEndian(t *testing.T) {
	table := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
		"   0: 7F000001:D431 7F000001:1F90 01 00000000:00000000 00:00000000 00000000  42        0 7 1 0\n"
	got, err := findSockets(strings.NewReader(table), binary.BigEndian, ap("127.0.0.1:54321"), ap("127.0.0.1:8080"))
	if err != nil || len(got) != 1 || got[0].uid != 42 {
		t.Fatalf("%+v, %v", got, err)
	}
}

// TestFindSocketsRefusesGarbage: a table that cannot be read fully is an
// error, never "not found": the line not understood could be the one.
func TestFindSocketsRefusesGarbage(t *testing.T) {
	header := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	for name, table := range map[string]string{
		"no header":       "   0: 0100007F:D431 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 1 1 0\n",
		"short line":      header + "   0: 0100007F:D431 0100007F:1F90 01\n",
		"bad address":     header + "   0: 0100007G:D431 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 1 1 0\n",
		"odd length":      header + "   0: 00007F:D431 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 1 1 0\n",
		"no port":         header + "   0: 0100007F 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 1 1 0\n",
		"port too large":  header + "   0: 0100007F:1D431 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 1 1 0\n",
		"negative uid":    header + "   0: 0100007F:D431 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  -1        0 1 1 0\n",
		"bad inode":       header + "   0: 0100007F:D431 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 x 1 0\n",
		"line too long":   header + strings.Repeat("x", maxLine+1) + "\n",
		"bad IPv6 digits": header + "   0: 0000000000000000000000000100000Z:E000 00000000000000000000000001000000:1F91 01 00000000:00000000 00:00000000 00000000  1000        0 1 1 0\n",
	} {
		t.Run(name, func(t *testing.T) {
			if got, err := findSockets(strings.NewReader(table), binary.LittleEndian, ap("127.0.0.1:54321"), ap("127.0.0.1:8080")); err == nil {
				t.Errorf("no error; found %+v", got)
			}
		})
	}
}

// TestOwner: only one clear owner is an answer.
func TestOwner(t *testing.T) {
	s := func(uid uint32, inode uint64) socket { return socket{uid: uid, inode: inode} }
	for _, tc := range []struct {
		name  string
		found []socket
		uid   uint32
		ok    bool
	}{
		{"one", []socket{s(1000, 5)}, 1000, true},
		{"none", nil, 0, false},
		{"closed (TIME_WAIT, uid 0)", []socket{s(0, 0)}, 0, false},
		{"two that agree", []socket{s(1000, 5), s(1000, 6)}, 1000, true},
		{"two that disagree", []socket{s(1000, 5), s(0, 6)}, 0, false},
		{"one closed among them", []socket{s(0, 5), s(0, 0)}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			uid, err := owner(tc.found, ap("127.0.0.1:1"))
			if (err == nil) != tc.ok || (tc.ok && uid != tc.uid) {
				t.Errorf("owner = %d, %v; want %d ok=%v", uid, err, tc.uid, tc.ok)
			}
		})
	}
}

func FuzzParseSocket(f *testing.F) {
	for _, l := range strings.Split(tcp4+tcp6, "\n") {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, line string) {
		_, _ = parseSocket(line, binary.LittleEndian)
	})
}
