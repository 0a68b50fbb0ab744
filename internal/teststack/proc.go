package teststack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// BinDir is where the server binaries are looked up.
func BinDir() string {
	if d := os.Getenv("ALILOGIN_STACK_BIN"); d != "" {
		return d
	}
	if c := os.Getenv("ALILOGIN_STACK_CACHE"); c != "" {
		return filepath.Join(c, "bin")
	}
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, _ := os.UserHomeDir()
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "alilogin-stack", "bin")
}

// Bin returns the path of a server binary ("vault", "nomad", "consul",
// "hydra"), or an error that says how to build it.
func Bin(name string) (string, error) {
	p := filepath.Join(BinDir(), name)
	if st, err := os.Stat(p); err != nil || st.IsDir() {
		return "", fmt.Errorf("%s binary not found at %s; build the stack with tools/stack/build.sh (make stack)", name, p)
	}
	return p, nil
}

// FreePort returns a free TCP port on 127.0.0.1.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// freePorts returns n distinct free ports.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// onFreePorts runs start up to three times. freePorts gives its ports
// back before the server binds them, and the test binaries running in
// parallel pick ports too, so one can be taken in between: a start that
// failed because an address was in use is tried again on other ports.
func onFreePorts[T any](start func() (T, error)) (T, error) {
	for attempt := 1; ; attempt++ {
		v, err := start()
		if err == nil || attempt == 3 || !strings.Contains(err.Error(), "address already in use") {
			return v, err
		}
	}
}

// proc is one server process.
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	logFile *os.File
	done    chan struct{}
	err     error
	once    sync.Once
}

// startProc starts bin with args and env in its own process group, its
// output going to dir/<name>.log.
func startProc(name, dir, bin string, args, env []string) (*proc, error) {
	logPath := filepath.Join(dir, name+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	// CHECKPOINT_DISABLE: HashiCorp's servers would otherwise ask the
	// internet for a newer version; tests talk only to loopback.
	cmd.Env = append(append(os.Environ(), "CHECKPOINT_DISABLE=1"), env...)
	cmd.Stdout = f
	cmd.Stderr = f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// Pdeathsig follows the thread that started the child: keep it alive.
	runtime.LockOSThread()
	err = cmd.Start()
	runtime.UnlockOSThread()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("could not start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, logPath: logPath, logFile: f, done: make(chan struct{})}
	go p.watch()
	return p, nil
}

// watch closes done when the process ends, without reaping it: its pid,
// which is also its group's id, stays taken by the zombie until stop or
// kill has signalled the group and reaps it. Reaped at once, the number
// could go to a new process group (pid_max is 32768 on small machines,
// and parallel test binaries start hundreds of processes), and a later
// stop would send SIGTERM to a stranger: another test's server.
func (p *proc) watch() {
	var info unix.Siginfo
	pid := p.cmd.Process.Pid
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			p.err = fmt.Errorf("could not wait for %s: %w", p.name, err)
		} else {
			p.err = zombieStatus(pid)
		}
		break
	}
	close(p.done)
}

// statFields returns the fields of /proc/PID/stat after the command
// name, from field 3 (the state) on: the name is in parentheses and may
// hold spaces and parentheses itself.
func statFields(pid int) ([]string, error) {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil, err
	}
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return nil, fmt.Errorf("no command name in /proc/%d/stat", pid)
	}
	return strings.Fields(string(stat[i+1:])), nil
}

// zombieStatus reads how an ended, unreaped process ended from its stat
// (field 52, exit_code, in waitpid's form) as exec.ExitError would say it.
func zombieStatus(pid int) error {
	f, err := statFields(pid)
	if err != nil {
		return fmt.Errorf("ended (could not read its status: %w)", err)
	}
	if len(f) < 50 {
		return errors.New("ended")
	}
	code, err := strconv.Atoi(f[49]) // field 52
	if err != nil {
		return errors.New("ended")
	}
	ws := syscall.WaitStatus(code)
	switch {
	case ws.Exited() && ws.ExitStatus() == 0:
		return nil
	case ws.Exited():
		return fmt.Errorf("exit status %d", ws.ExitStatus())
	case ws.Signaled():
		return fmt.Errorf("signal: %v", ws.Signal())
	}
	return fmt.Errorf("ended (wait status %#x)", code)
}

// reap collects the ended process once its group has been signalled.
func (p *proc) reap() {
	<-p.done
	_ = p.cmd.Wait()
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the group, then SIGKILL after a grace period.
func (p *proc) stop() {
	p.once.Do(func() {
		pgid := p.cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-p.done
		}
		// Children that outlived the leader; the group's id is still
		// the unreaped leader's.
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		p.reap()
		p.logFile.Close()
	})
}

// kill stops the process at once (for fault tests).
func (p *proc) kill() {
	p.once.Do(func() {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		p.reap()
		p.logFile.Close()
	})
}

// tail returns the last n bytes of the log.
func (p *proc) tail(n int64) string {
	f, err := os.Open(p.logPath)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	st, _ := f.Stat()
	if st != nil && st.Size() > n {
		_, _ = f.Seek(-n, io.SeekEnd)
	}
	b, _ := io.ReadAll(f)
	return string(b)
}

// errBroken, wrapped in check's error, says the server is up but will
// not recover by itself: waitFor stops at once (the caller may start it
// again).
var errBroken = errors.New("the server is in a state it does not leave")

// waitFor polls check until it returns nil, the process dies, check
// says it is broken (errBroken), or the context ends. The error names
// the server and shows the log's tail.
func (p *proc) waitFor(ctx context.Context, what string, check func(context.Context) error) error {
	var last error
	for {
		if p.exited() {
			return fmt.Errorf("%s exited before %s (%v); log:\n%s", p.name, what, p.err, p.tail(4000))
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		last = check(cctx)
		cancel()
		if last == nil {
			return nil
		}
		if errors.Is(last, errBroken) {
			return fmt.Errorf("%s: broken while waiting for %s: %w; log:\n%s", p.name, what, last, p.tail(4000))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: timed out waiting for %s: %v; log:\n%s", p.name, what, errors.Join(ctx.Err(), last), p.tail(4000))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// runOut runs a short command and returns its combined output.
func runOut(ctx context.Context, env []string, bin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	// CHECKPOINT_DISABLE: HashiCorp's servers would otherwise ask the
	// internet for a newer version; tests talk only to loopback.
	cmd.Env = append(append(os.Environ(), "CHECKPOINT_DISABLE=1"), env...)
	var b bytes.Buffer
	cmd.Stdout = &b
	cmd.Stderr = &b
	err := cmd.Run()
	return b.String(), err
}
