// Package chtest starts a private ClickHouse server (Debian's
// clickhouse-server, 18.16 here) for tests: a process on loopback with its
// own data directory, free ports and a user with a password; stopped after.
package chtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// User and Password are the test server's account.
const (
	User     = "etl"
	Password = "s3cret-pw"
)

// Server is a running clickhouse-server.
type Server struct {
	Port int
	// InterserverPort serves replicas fetching parts (cluster nodes).
	InterserverPort int
	httpPort        int
	dir             string
	bin             string
	cmd             *exec.Cmd
	exit            chan struct{}
}

// Binary finds clickhouse-server. Without it the test is skipped on a
// developer's machine and fails in CI (CI set), where .ci/run installs it.
func Binary(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"clickhouse-server", "/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server"} {
		if b, err := exec.LookPath(p); err == nil {
			return b
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("clickhouse-server is not installed: apt-get install -y clickhouse-server clickhouse-client")
	}
	t.Skip("clickhouse-server is not installed (apt-get install -y clickhouse-server clickhouse-client)")
	return ""
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

const configXML = `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>%[1]s/server.log</log><errorlog>%[1]s/server.err.log</errorlog><size>10M</size><count>1</count></logger>
  <tcp_port>%[2]d</tcp_port>
  <http_port>%[3]d</http_port>
  <listen_host>127.0.0.1</listen_host>
  <path>%[1]s/data/</path>
  <tmp_path>%[1]s/data/tmp/</tmp_path>
  <user_files_path>%[1]s/data/user_files/</user_files_path>
  <format_schema_path>%[1]s/data/format_schemas/</format_schema_path>
  <users_config>%[1]s/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <max_concurrent_queries>50</max_concurrent_queries>
  <mlock_executable>false</mlock_executable>
  <shutdown_wait_unfinished>1</shutdown_wait_unfinished>
%[4]s
</yandex>
`

const usersXML = `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage>%[3]s</default></profiles>
  <users>
    <default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default>
    <%[1]s><password>%[2]s</password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></%[1]s>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`

// Start starts a server in a temporary directory. The caller stops it
// (Close), in a cleanup of the test or of TestMain.
func Start(t testing.TB) *Server {
	t.Helper()
	s := prepare(t)
	if err := s.write(""); err != nil {
		t.Fatal(err)
	}
	if err := s.start(); err != nil {
		s.Close()
		t.Fatal(err)
	}
	return s
}

// prepare makes a server's directory and picks its ports.
func prepare(t testing.TB) *Server {
	t.Helper()
	SkipIfShort(t)
	bin := Binary(t)
	dir, err := os.MkdirTemp("", "chtest-")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{dir: dir, bin: bin}
	tcp, err1 := freePort()
	http, err2 := freePort()
	inter, err3 := freePort()
	if err1 != nil || err2 != nil || err3 != nil {
		t.Fatal(err1, err2, err3)
	}
	s.Port, s.httpPort, s.InterserverPort = tcp, http, inter
	return s
}

// write writes the server's configuration, with extra elements (cluster,
// ZooKeeper, macros) inside <yandex>.
func (s *Server) write(extra string) error {
	dir := s.dir
	if err := os.WriteFile(filepath.Join(dir, "config.xml"), []byte(fmt.Sprintf(configXML, dir, s.Port, s.httpPort, extra)), 0o600); err != nil {
		return err
	}
	profile := ""
	if extra != "" {
		// Distributed DDL runs with the server's default profile, not the
		// session's settings: 18.16 needs LowCardinality allowed there.
		profile = "<allow_experimental_low_cardinality_type>1</allow_experimental_low_cardinality_type>"
	}
	return os.WriteFile(filepath.Join(dir, "users.xml"), []byte(fmt.Sprintf(usersXML, User, Password, profile)), 0o600)
}

func (s *Server) start() error {
	cmd := exec.Command(s.bin, "--config-file="+filepath.Join(s.dir, "config.xml"))
	cmd.Dir = s.dir
	out, err := os.OpenFile(filepath.Join(s.dir, "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting clickhouse-server: %w", err)
	}
	s.cmd = cmd
	s.exit = make(chan struct{})
	go func() { cmd.Wait(); out.Close(); close(s.exit) }()
	return s.wait(60 * time.Second)
}

// wait pings until the server answers.
func (s *Server) wait(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{s.Addr()}, Auth: clickhouse.Auth{Username: User, Password: Password},
			DialTimeout: time.Second})
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			err = conn.Ping(ctx)
			cancel()
			conn.Close()
			if err == nil {
				return nil
			}
		}
		select {
		case <-s.exit:
			log, _ := os.ReadFile(filepath.Join(s.dir, "server.err.log"))
			out, _ := os.ReadFile(filepath.Join(s.dir, "stdout.log"))
			return fmt.Errorf("clickhouse-server exited: %s%s", log, out)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("clickhouse-server did not answer within %s: %v", limit, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Addr is host:port of the native protocol.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port) }

// DSN returns a DSN for database db with the test account.
func (s *Server) DSN(db string) string {
	return fmt.Sprintf("clickhouse://%s:%s@%s/%s", User, Password, s.Addr(), db)
}

// Stop stops the server (SIGTERM, then SIGKILL after 5 s: a query left
// open, such as an INSERT waiting for data, holds a graceful stop) and keeps
// its data.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.exit:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.exit
	}
	s.cmd = nil
}

// Kill kills the server at once (SIGKILL), as a crash or a lost machine
// would, and keeps its data.
func (s *Server) Kill() {
	if s.cmd == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.exit
	s.cmd = nil
}

// Restart starts a stopped server again on the same port and data.
func (s *Server) Restart() error {
	s.Stop()
	return s.start()
}

// Close stops the server and removes its directory.
func (s *Server) Close() {
	s.Stop()
	os.RemoveAll(s.dir)
}
