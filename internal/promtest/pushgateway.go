package promtest

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Pushgateway is a running prometheus-pushgateway.
type Pushgateway struct {
	// URL is its address, http://127.0.0.1:port, without credentials.
	URL string

	dir   string
	cmd   *exec.Cmd
	exit  chan struct{}
	close sync.Once
}

// StartPushgateway starts Debian's prometheus-pushgateway on a free
// loopback port, keeping what it is pushed in memory only (no
// persistence file), and stops it when the test ends. users, when not
// empty, turns on basic authentication: user name to bcrypt hash (the
// gateway's web configuration file). It returns once the gateway answers
// GET /-/ready.
func StartPushgateway(t testing.TB, users map[string]string) *Pushgateway {
	t.Helper()
	bin := Binary(t, "prometheus-pushgateway")
	port, err := freePort()
	if err != nil {
		t.Fatalf("picking a port for the Pushgateway: %v", err)
	}
	p := &Pushgateway{URL: "http://127.0.0.1:" + strconv.Itoa(port), dir: t.TempDir()}
	args := []string{"--web.listen-address=127.0.0.1:" + strconv.Itoa(port), "--persistence.file=", "--log.level=warn"}
	if len(users) > 0 {
		var b strings.Builder
		b.WriteString("basic_auth_users:\n")
		for u, hash := range users {
			fmt.Fprintf(&b, "  %q: %q\n", u, hash)
		}
		web := filepath.Join(p.dir, "web.yml")
		if err := os.WriteFile(web, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--web.config.file="+web)
	}
	if err := p.start(bin, args, len(users) > 0); err != nil {
		p.Close()
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func (p *Pushgateway) start(bin string, args []string, auth bool) error {
	out, err := os.Create(filepath.Join(p.dir, "pushgateway.log"))
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = p.dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("starting prometheus-pushgateway: %w", err)
	}
	p.cmd = cmd
	p.exit = make(chan struct{})
	go func() { cmd.Wait(); out.Close(); close(p.exit) }()
	return p.wait(auth, 30*time.Second)
}

// wait polls GET /-/ready until it answers 200 (or 401 with
// authentication on: the gateway is serving).
func (p *Pushgateway) wait(auth bool, limit time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(limit)
	for {
		resp, err := client.Get(p.URL + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || (auth && resp.StatusCode == http.StatusUnauthorized) {
				return nil
			}
			err = fmt.Errorf("GET /-/ready: %s", resp.Status)
		}
		select {
		case <-p.exit:
			log, _ := os.ReadFile(filepath.Join(p.dir, "pushgateway.log"))
			return fmt.Errorf("prometheus-pushgateway exited: %s", log)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("prometheus-pushgateway not ready within %s: %w", limit, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Close stops the gateway (SIGTERM, then SIGKILL) and forgets what it
// held. Safe to call more than once.
func (p *Pushgateway) Close() {
	p.close.Do(func() {
		if p.cmd == nil || p.cmd.Process == nil {
			return
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exit:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.exit
		}
	})
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
