package chtest

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ZooKeeper is Debian's zookeeper (3.8) run as a plain Java process on a
// loopback port with a private data directory.
type ZooKeeper struct {
	Port int
	dir  string
	cmd  *exec.Cmd
	exit chan struct{}
}

// zooKeeperJar is Debian's server jar; its manifest lists its dependencies.
const zooKeeperJar = "/usr/share/java/zookeeper.jar"

// StartZooKeeper starts a standalone ZooKeeper. Without Java or the jar the
// test is skipped on a developer's machine and fails in CI (make zookeeper
// installs it). The caller stops it (Close).
func StartZooKeeper(t testing.TB) *ZooKeeper {
	t.Helper()
	SkipIfShort(t)
	java, err := exec.LookPath("java")
	if _, jerr := os.Stat(zooKeeperJar); err != nil || jerr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("ZooKeeper is not installed (java: %v, jar: %v): apt-get install -y zookeeper", err, jerr)
		}
		t.Skip("ZooKeeper is not installed: apt-get install -y zookeeper")
	}
	dir, err := os.MkdirTemp("", "zktest-")
	if err != nil {
		t.Fatal(err)
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	z := &ZooKeeper{Port: port, dir: dir}
	// Short ticks: sessions of a killed server expire in seconds, not 30 s.
	cfg := fmt.Sprintf("tickTime=250\ndataDir=%s/data\nclientPort=%d\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\nminSessionTimeout=500\nmaxSessionTimeout=10000\n4lw.commands.whitelist=srvr\n", dir, port)
	if err := os.WriteFile(filepath.Join(dir, "zoo.cfg"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(filepath.Join(dir, "zookeeper.log"))
	if err != nil {
		t.Fatal(err)
	}
	z.cmd = exec.Command(java, "-Xmx256m", "-cp", zooKeeperJar, "org.apache.zookeeper.server.ZooKeeperServerMain", filepath.Join(dir, "zoo.cfg"))
	z.cmd.Stdout, z.cmd.Stderr = out, out
	z.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := z.cmd.Start(); err != nil {
		t.Fatalf("starting ZooKeeper: %v", err)
	}
	z.exit = make(chan struct{})
	go func() { z.cmd.Wait(); out.Close(); close(z.exit) }()
	deadline := time.Now().Add(60 * time.Second)
	for !z.ok() {
		select {
		case <-z.exit:
			log, _ := os.ReadFile(filepath.Join(dir, "zookeeper.log"))
			z.Close()
			t.Fatalf("ZooKeeper exited:\n%s", log)
		default:
		}
		if time.Now().After(deadline) {
			z.Close()
			t.Fatal("ZooKeeper did not serve within 60 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	return z
}

// ok asks the server "srvr": it says "Mode: standalone" once it serves
// sessions ("ruok" answers "imok" before that, and a session opened then
// is dropped, which makes 18.16's DDL worker crash the server).
func (z *ZooKeeper) ok() bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(z.Port), time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("srvr")); err != nil {
		return false
	}
	out, _ := io.ReadAll(c)
	return strings.Contains(string(out), "Mode: standalone")
}

// Close stops ZooKeeper and removes its directory.
func (z *ZooKeeper) Close() {
	if z.cmd != nil && z.cmd.Process != nil {
		_ = syscall.Kill(-z.cmd.Process.Pid, syscall.SIGKILL)
		<-z.exit
	}
	os.RemoveAll(z.dir)
}

// Cluster is ZooKeeper and two clickhouse-server nodes that share two
// clusters: Replicated, one shard of two replicas (node 0 and node 1), and
// Sharded, two shards of one replica each. Node i has the macros
// shard=0<i+1> and replica=node<i>; distributed DDL is on.
type Cluster struct {
	ZK    *ZooKeeper
	Nodes []*Server
}

// Cluster names.
const (
	Replicated = "replicated"
	Sharded    = "sharded"
)

// StartCluster starts ZooKeeper and two nodes; all stop when the test ends.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	SkipIfShort(t)
	Binary(t)
	c := &Cluster{ZK: StartZooKeeper(t)}
	t.Cleanup(c.Close)
	// Ports are picked free, then bound by the servers: another process
	// can take one in between. Then start again on new ports.
	var err error
	for try := 0; try < 3; try++ {
		if err = c.start(t); err == nil {
			// Cleanups run last first: this one before c.Close.
			t.Cleanup(func() {
				if t.Failed() {
					for i, n := range c.Nodes {
						log, _ := os.ReadFile(filepath.Join(n.dir, "server.err.log"))
						t.Logf("node %d error log (last 3 KiB):\n%s", i, tailBytes(log, 3072))
					}
				}
			})
			return c
		}
		for _, n := range c.Nodes {
			n.Close()
		}
		c.Nodes = nil
		if !strings.Contains(err.Error(), "Address already in use") {
			break
		}
	}
	t.Fatal(err)
	return nil
}

// start writes the nodes' configurations and starts them. A replica the
// tests kill (SIGKILL) can be left with a part it wrote and ZooKeeper never
// heard of; 18.16 refuses to start when such parts hold more than half of a
// table's rows (replicated_max_ratio_of_wrong_parts), which the test tables,
// a part or two each, always do. The nodes take them as a large table's
// replica would: detached, then fetched again.
func (c *Cluster) start(t testing.TB) error {
	for range 2 {
		c.Nodes = append(c.Nodes, prepare(t))
	}
	replica := func(n *Server) string {
		return fmt.Sprintf("<replica><host>127.0.0.1</host><port>%d</port></replica>", n.Port)
	}
	shard := func(replicas ...string) string {
		return "<shard><internal_replication>true</internal_replication>" + strings.Join(replicas, "") + "</shard>"
	}
	r0, r1 := replica(c.Nodes[0]), replica(c.Nodes[1])
	remote := "<remote_servers>\n" +
		"  <" + Replicated + ">" + shard(r0, r1) + "</" + Replicated + ">\n" +
		"  <" + Sharded + ">" + shard(r0) + shard(r1) + "</" + Sharded + ">\n" +
		"</remote_servers>"
	for i, n := range c.Nodes {
		extra := remote + fmt.Sprintf(`
<zookeeper><node><host>127.0.0.1</host><port>%d</port></node><session_timeout_ms>3000</session_timeout_ms></zookeeper>
<macros><shard>0%d</shard><replica>node%d</replica></macros>
<distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>
<interserver_http_port>%d</interserver_http_port>
<interserver_http_host>127.0.0.1</interserver_http_host>
<merge_tree><replicated_max_ratio_of_wrong_parts>1</replicated_max_ratio_of_wrong_parts></merge_tree>`, c.ZK.Port, i+1, i, n.InterserverPort)
		if err := n.write(extra); err != nil {
			return err
		}
	}
	for _, n := range c.Nodes {
		if err := n.start(); err != nil {
			return err
		}
	}
	return nil
}

// DSN is a DSN listing every node (clickhouse-go fails over between them),
// node first.
func (c *Cluster) DSN(db string, first int) string {
	hosts := []string{c.Nodes[first].Addr()}
	for i, n := range c.Nodes {
		if i != first {
			hosts = append(hosts, n.Addr())
		}
	}
	return fmt.Sprintf("clickhouse://%s:%s@%s/%s", User, Password, strings.Join(hosts, ","), db)
}

// Query runs a query on node i through the native protocol and returns
// its first column's values as text.
func (c *Cluster) Query(t testing.TB, node int, query string) []string {
	t.Helper()
	return c.Nodes[node].Query(t, query)
}

// Close stops the nodes and ZooKeeper.
func (c *Cluster) Close() {
	for _, n := range c.Nodes {
		n.Close()
	}
	if c.ZK != nil {
		c.ZK.Close()
	}
}

// Query runs query on the server with clickhouse-client and returns its
// output lines (TSV).
func (s *Server) Query(t testing.TB, query string) []string {
	t.Helper()
	out, err := s.Client(query)
	if err != nil {
		t.Fatalf("clickhouse-client on :%d: %s: %v", s.Port, query, err)
	}
	return out
}

// Client runs query with clickhouse-client.
func (s *Server) Client(query string) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "clickhouse-client", "--host", "127.0.0.1", "--port", strconv.Itoa(s.Port), "--user", User, "--password", Password, "--query", query)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%v: %s", err, out)
	}
	text := strings.TrimRight(string(out), "\n")
	if text == "" {
		return nil, nil
	}
	return strings.Split(text, "\n"), nil
}

func tailBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
