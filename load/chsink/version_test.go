package chsink_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/salesnav-etl/salesnav-etl/internal/chtest"
	"github.com/salesnav-etl/salesnav-etl/load/chsink"
)

// versionProxy relays the native protocol between the sink and a real
// server, rewriting the major and minor version of the server's hello (so
// the sink believes it talks to that version), and keeps every byte the
// sink sent.
type versionProxy struct {
	ln           net.Listener
	target       string
	major, minor byte // 0: the server's own

	mu   sync.Mutex
	sent bytes.Buffer
}

func startVersionProxy(t *testing.T, target string, major, minor byte) *versionProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &versionProxy{ln: ln, target: target, major: major, minor: minor}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.relay(c)
		}
	}()
	return p
}

func (p *versionProxy) relay(client net.Conn) {
	defer client.Close()
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer server.Close()
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := client.Read(buf)
			if n > 0 {
				p.mu.Lock()
				p.sent.Write(buf[:n])
				p.mu.Unlock()
				server.Write(buf[:n])
			}
			if err != nil {
				server.Close()
				return
			}
		}
	}()
	// The server's hello: packet type 0, the name (a length byte and the
	// text), then the major and minor version, one varint byte each.
	hello := make([]byte, 0, 256)
	buf := make([]byte, 256)
	for len(hello) < 2 || len(hello) < 2+int(hello[1])+2 {
		n, err := server.Read(buf)
		hello = append(hello, buf[:n]...)
		if err != nil {
			return
		}
	}
	if hello[0] == 0 && p.major != 0 {
		at := 2 + int(hello[1])
		hello[at], hello[at+1] = p.major, p.minor
	}
	client.Write(hello)
	io.Copy(client, server)
}

func (p *versionProxy) sentText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent.String()
}

func (p *versionProxy) dsn(db, query string) string {
	return "clickhouse://" + chtest.User + ":" + chtest.Password + "@" + p.ln.Addr().String() + "/" + db + query
}

// TestSettingsByServerVersion: Open reads the server's version from its
// handshake and sends the LowCardinality switch to 18.x only. A proxy in
// front of the 18.16 server reports it as 26.7 or 24.8 (Open makes
// nothing that needs the switch), or as itself; every byte the sink sends
// is searched for the setting's name. Settings given in the DSN arrive as
// given, and one the server does not know fails Open with ClickHouse's
// own error, the DSN redacted, and a hint pointing at the DSN.
func TestSettingsByServerVersion(t *testing.T) {
	s := chtest.Start(t)
	const lc = "allow_experimental_low_cardinality_type"
	for _, c := range []struct {
		name         string
		major, minor byte
		cluster      bool
		want         string // the version the sink reports
		sendsLC      bool
	}{
		{name: "18.16 as itself", want: "18.16", sendsLC: true},
		{name: "as 26.7", major: 26, minor: 7, want: "26.7"},
		{name: "as 24.8", major: 24, minor: 8, want: "24.8"},
		{name: "as 26.7 on a cluster", major: 26, minor: 7, cluster: true, want: "26.7"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := startVersionProxy(t, s.Addr(), c.major, c.minor)
			layout := chsink.Layout{}
			if c.cluster {
				// The server has no such cluster: Open stops at reading
				// it, after the first statement carried the settings.
				layout = chsink.Layout{Cluster: "no_such_cluster"}
			}
			sink, err := chsink.Open(context.Background(), chsink.Config{DSN: p.dsn("versions", "?max_threads=3"), Layout: layout})
			if c.cluster {
				if !errors.Is(err, chsink.ErrNoCluster) {
					t.Fatalf("Open on an unknown cluster: %v", err)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if got := sink.Version().String(); !strings.HasPrefix(got, c.want+".") {
					t.Errorf("version %s, want %s", got, c.want)
				}
				sink.Close()
			}
			sent := p.sentText()
			if got := strings.Contains(sent, lc); got != c.sendsLC {
				t.Errorf("%s sent: %v, want %v", lc, got, c.sendsLC)
			}
			if !strings.Contains(sent, "max_threads") {
				t.Error("the DSN's setting max_threads was not sent")
			}
			if c.cluster && !strings.Contains(sent, "distributed_ddl_task_timeout") {
				t.Error("distributed_ddl_task_timeout not sent on a cluster")
			}
		})
	}
	t.Run("unknown DSN setting", func(t *testing.T) {
		dsn := s.DSN("versions") + "?no_such_setting_x=1"
		_, err := chsink.Open(context.Background(), chsink.Config{DSN: dsn})
		var ex *clickhouse.Exception
		if !errors.As(err, &ex) || ex.Code != 115 {
			t.Fatalf("want ClickHouse's code 115, got %v", err)
		}
		msg := err.Error()
		for _, want := range []string{"no_such_setting_x", "etl:xxxxx@" + s.Addr() + "/versions", "remove it from the DSN"} {
			if !strings.Contains(msg, want) {
				t.Errorf("error lacks %q: %s", want, msg)
			}
		}
		if strings.Contains(msg, chtest.Password) {
			t.Errorf("error holds the password: %s", msg)
		}
	})
}
