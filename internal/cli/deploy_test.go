package cli

// Issue 6: the container, Kubernetes and Airflow files are checked for the
// fields that matter, against the binary's own variables and exit codes.

import (
	"context"
	"debug/elf"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/connector/protocoltest"
	"github.com/salesnav-etl/salesnav-etl/internal/chtest"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
	"github.com/sethvargo/go-envconfig"
	"sigs.k8s.io/yaml"
)

func readYAML(t *testing.T, path string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

// dig walks a parsed manifest: keys for maps, ints for lists.
func dig(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("%v: not a map at %q", path, k)
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("%v: no item %d", path, k)
			}
			v = l[k]
		}
	}
	return v
}

func TestKubernetesManifests(t *testing.T) {
	for _, name := range []string{"cronjob.yaml", "cronjob-sharded.yaml"} {
		t.Run(name, func(t *testing.T) { checkCronJob(t, name) })
	}
}

// The sharded CronJob runs an Indexed Job whose pods, told their index
// by Kubernetes, resolve to shards 0 to n-1 of n.
func TestKubernetesShardedCronJob(t *testing.T) {
	job, env := checkCronJob(t, "cronjob-sharded.yaml")
	n, err := strconv.Atoi(env["SALESNAV_SHARDS"])
	if err != nil || n < 2 {
		t.Fatalf("SALESNAV_SHARDS %q", env["SALESNAV_SHARDS"])
	}
	if dig(t, job, "completionMode") != "Indexed" || dig(t, job, "completions") != float64(n) || dig(t, job, "parallelism") != float64(n) {
		t.Errorf("completionMode %v, completions %v, parallelism %v; want Indexed, %d, %d", dig(t, job, "completionMode"),
			dig(t, job, "completions"), dig(t, job, "parallelism"), n, n)
	}
	for i := range n {
		pod := map[string]string{"JOB_COMPLETION_INDEX": strconv.Itoa(i), "SALESNAV_ACCESS_TOKEN": "t", "SALESNAV_CLICKHOUSE_DSN": "clickhouse://u:p@h:9000/db"}
		for k, v := range env {
			pod[k] = v
		}
		e, err := LoadEnv(context.Background(), envconfig.MapLookuper(pod))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := e.Resolve(time.Now(), true)
		if err != nil {
			t.Fatalf("pod %d: %v", i, err)
		}
		if cfg.Pipeline.Shard != (pipeline.Shard{Index: i, Count: n}) {
			t.Errorf("pod %d runs shard %+v", i, cfg.Pipeline.Shard)
		}
	}
}

// checkCronJob checks a CronJob manifest of deploy/kubernetes and returns
// its Job spec and the container's environment.
func checkCronJob(t *testing.T, name string) (job any, env map[string]string) {
	dir := "../../deploy/kubernetes"
	cj := readYAML(t, filepath.Join(dir, name))
	secret := readYAML(t, filepath.Join(dir, "secret.example.yaml"))
	if cj["kind"] != "CronJob" || cj["apiVersion"] != "batch/v1" || secret["kind"] != "Secret" {
		t.Fatalf("kinds: %v %v", cj["kind"], secret["kind"])
	}
	if p := dig(t, cj, "spec", "concurrencyPolicy"); p != "Forbid" {
		t.Errorf("concurrencyPolicy %v, want Forbid", p)
	}
	if _, err := cronFields(dig(t, cj, "spec", "schedule").(string)); err != nil {
		t.Error(err)
	}
	job = dig(t, cj, "spec", "jobTemplate", "spec")
	pod := dig(t, job, "template", "spec")
	if rp := dig(t, pod, "restartPolicy"); rp != "Never" {
		t.Errorf("restartPolicy %v: podFailurePolicy needs Never", rp)
	}
	c := dig(t, pod, "containers", 0)
	if dig(t, c, "image") == nil || !slices.Equal(toStrings(dig(t, c, "args")), []string{"run"}) {
		t.Errorf("container image or args: %v %v", dig(t, c, "image"), dig(t, c, "args"))
	}
	// Every variable set is one the binary reads; the secret is the one
	// the Secret manifest creates.
	known := envDefaults()
	env = map[string]string{}
	for _, e := range dig(t, c, "env").([]any) {
		name, value := dig(t, e, "name").(string), dig(t, e, "value")
		if rest, ok := strings.CutPrefix(name, envPrefix); ok {
			if _, k := known[rest]; !k {
				t.Errorf("the CronJob sets %s, which salesnav-etl does not read", name)
			}
		}
		env[name], _ = value.(string)
	}
	if ref := dig(t, c, "envFrom", 0, "secretRef", "name"); ref != dig(t, secret, "metadata", "name") {
		t.Errorf("envFrom secret %v, the Secret is %v", ref, dig(t, secret, "metadata", "name"))
	}
	for k := range dig(t, secret, "stringData").(map[string]any) {
		if _, ok := known[strings.TrimPrefix(k, envPrefix)]; !ok || !strings.HasPrefix(k, envPrefix) {
			t.Errorf("the Secret holds %s, which salesnav-etl does not read", k)
		}
	}
	// The grace period the binary takes fits in Kubernetes' wait.
	grace, err := time.ParseDuration(env["SALESNAV_GRACE_PERIOD"])
	if err != nil {
		t.Fatalf("SALESNAV_GRACE_PERIOD %q: %v", env["SALESNAV_GRACE_PERIOD"], err)
	}
	if tg, _ := dig(t, pod, "terminationGracePeriodSeconds").(float64); time.Duration(tg)*time.Second < grace+5*time.Second {
		t.Errorf("terminationGracePeriodSeconds %v leaves no margin over SALESNAV_GRACE_PERIOD %s", tg, grace)
	}
	for _, r := range []string{"requests", "limits"} {
		if dig(t, c, "resources", r, "memory") == nil {
			t.Errorf("no memory %s", r)
		}
	}
	if dig(t, pod, "securityContext", "runAsNonRoot") != true || dig(t, c, "securityContext", "readOnlyRootFilesystem") != true {
		t.Error("the pod must run as non-root with a read-only root filesystem")
	}
	// Exit codes: 1, 2, 3 fail the Job (an Indexed Job: that index, so
	// that the other shards go on) at once; 75 is left to retries.
	rules := dig(t, job, "podFailurePolicy", "rules").([]any)
	failCodes := toFloats(dig(t, rules[0], "onExitCodes", "values"))
	action, limit := "FailJob", "backoffLimit"
	if dig(t, job, "completionMode") == "Indexed" {
		action, limit = "FailIndex", "backoffLimitPerIndex"
	}
	if dig(t, rules[0], "action") != action || !slices.Equal(failCodes, []float64{ExitFailure, ExitConfig, ExitPartial}) ||
		dig(t, rules[0], "onExitCodes", "containerName") != dig(t, c, "name") {
		t.Errorf("podFailurePolicy: %v, want %s", rules[0], action)
	}
	if slices.Contains(failCodes, ExitTemporary) {
		t.Error("exit 75 must be retried")
	}
	if bl, _ := dig(t, job, limit).(float64); bl < 1 {
		t.Errorf("no retries for exit 75 (%s)", limit)
	}
	// The scratch volume holds what the run writes to files.
	if env["SALESNAV_PARQUET_DIR"] != dig(t, c, "volumeMounts", 0, "mountPath") {
		t.Errorf("SALESNAV_PARQUET_DIR %q is not the mounted volume", env["SALESNAV_PARQUET_DIR"])
	}
	return job, env
}

func cronFields(s string) ([]string, error) {
	f := strings.Fields(s)
	if len(f) != 5 {
		return nil, &os.PathError{Op: "schedule", Path: s, Err: os.ErrInvalid}
	}
	return f, nil
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func toFloats(v any) []float64 {
	var out []float64
	for _, x := range v.([]any) {
		out = append(out, x.(float64))
	}
	return out
}

// The Dockerfile builds a static binary in one stage and runs it as a
// non-root user from a distroless image with CA certificates; the same
// build command here gives a binary with no dynamic loader.
func TestDockerfile(t *testing.T) {
	raw, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var froms []string
	var user, entry string
	env, labels := map[string]string{}, map[string]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		switch f := strings.Fields(line); {
		case len(f) > 1 && f[0] == "FROM":
			froms = append(froms, f[1])
			env, labels = map[string]string{}, map[string]string{} // the final stage's count
		case len(f) > 1 && f[0] == "USER":
			user = f[1]
		case len(f) > 1 && f[0] == "ENTRYPOINT":
			entry = strings.Join(f[1:], " ")
		case len(f) > 1 && (f[0] == "ENV" || f[0] == "LABEL"):
			for _, kv := range f[1:] {
				k, v, _ := strings.Cut(kv, "=")
				if f[0] == "ENV" {
					env[k] = strings.Trim(v, `"`)
				} else {
					labels[k] = strings.Trim(v, `"`)
				}
			}
		}
	}
	if len(froms) < 2 || !strings.HasPrefix(froms[0], "golang:1.26.8") || !strings.HasPrefix(froms[len(froms)-1], "gcr.io/distroless/static") {
		t.Errorf("stages %v: want a golang:1.26.8 build stage (go.mod's Go) and a distroless static final stage (CA certificates, no shell)", froms)
	}
	if user == "" || strings.HasPrefix(user, "0") || strings.HasPrefix(user, "root") {
		t.Errorf("USER %q: want non-root", user)
	}
	if entry != `["/usr/local/bin/salesnav-etl"]` || !strings.Contains(string(raw), "CGO_ENABLED=0 go build") {
		t.Errorf("ENTRYPOINT %s, or the build is not static", entry)
	}
	// Issue 20: the image is an Airbyte source. AIRBYTE_ENTRYPOINT is the
	// image's entrypoint (the protocol's rule), an absolute path; the
	// platform runs it through sh, which the final stage must have (the
	// debug variant of distroless: busybox).
	var argv []string
	if err := json.Unmarshal([]byte(entry), &argv); err != nil || env["AIRBYTE_ENTRYPOINT"] != strings.Join(argv, " ") ||
		!strings.HasPrefix(env["AIRBYTE_ENTRYPOINT"], "/") {
		t.Errorf("ENV AIRBYTE_ENTRYPOINT=%q, ENTRYPOINT %s: want the same absolute command", env["AIRBYTE_ENTRYPOINT"], entry)
	}
	if !strings.Contains(froms[len(froms)-1], ":debug") {
		t.Errorf("final stage %s has no shell for Airbyte's launcher (want a distroless :debug variant)", froms[len(froms)-1])
	}
	if labels["io.airbyte.name"] == "" || labels["io.airbyte.version"] != "${VERSION}" {
		t.Errorf("labels %v: want io.airbyte.name and io.airbyte.version=${VERSION}", labels)
	}
	chtest.SkipIfShort(t) // the static build
	bin := filepath.Join(t.TempDir(), "salesnav-etl")
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags", "-s -w -X main.version=test -X main.commit=abc123", "-o", bin, "../../cmd/salesnav-etl")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("static build: %v\n%s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary needs a dynamic loader: not static")
		}
	}
	if out, err := exec.Command(bin, "version").Output(); err != nil || !strings.HasPrefix(string(out), "salesnav-etl test\ncommit abc123\n") {
		t.Errorf("version of the image's binary: %q %v", out, err)
	}
	// As Airbyte's launcher runs the image: through sh, with the image's
	// AIRBYTE_ENTRYPOINT, nothing but messages on stdout.
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal("sh is missing")
	}
	cfg := connectorConfigFile(t, t.TempDir(), "https://api.linkedin.com/v2", func(c map[string]any) {
		delete(c, "end_date") // the real clock: dates it cannot be before
		c["start_date"] = "2020-01-01"
	})
	for _, args := range []string{"spec", "discover --config " + cfg} {
		cmd := exec.Command(sh, "-c", `eval "$AIRBYTE_ENTRYPOINT `+args+`"`)
		cmd.Env = append(os.Environ(), "AIRBYTE_ENTRYPOINT="+bin)
		out, err := cmd.Output()
		msgs, verr := protocoltest.Airbyte(out, nil)
		if err != nil || verr != nil || len(msgs.Messages) != 1 {
			t.Errorf("%s through sh: %v %v %s", args, err, verr, out)
		}
	}
}

// The Airflow DAG compiles with python3 and, against stand-ins for the
// Airflow and Kubernetes modules, builds its task with the right image,
// secret and arguments, retries exit 75 and fails other exits for good.
func TestAirflowDAG(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("python3 is missing")
		}
		t.Skip("python3 is missing")
	}
	dag, _ := filepath.Abs("../../deploy/airflow/salesnav_etl_dag.py")
	// Compiled in memory: no __pycache__ left in the tree.
	if out, err := exec.Command(py, "-c", "import sys; compile(open(sys.argv[1]).read(), sys.argv[1], 'exec')", dag).CombinedOutput(); err != nil {
		t.Fatalf("compiling the DAG: %v\n%s", err, out)
	}
	stubs := t.TempDir()
	write := func(rel, body string) {
		p := filepath.Join(stubs, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, pkg := range []string{"airflow", "airflow/providers", "airflow/providers/cncf", "airflow/providers/cncf/kubernetes",
		"airflow/providers/cncf/kubernetes/operators", "kubernetes", "kubernetes/client"} {
		write(pkg+"/__init__.py", "")
	}
	write("airflow/__init__.py", `
class DAG:
    last = None
    def __init__(self, dag_id, **kw):
        self.dag_id, self.kw, self.tasks = dag_id, kw, []
    def __enter__(self):
        DAG.last = self
        return self
    def __exit__(self, *a):
        return False
`)
	write("airflow/exceptions.py", `
class AirflowException(Exception): pass
class AirflowFailException(AirflowException): pass
`)
	write("airflow/providers/cncf/kubernetes/operators/pod.py", `
import airflow
from airflow.exceptions import AirflowException
class KubernetesPodOperator:
    def __init__(self, **kw):
        self.kw = kw
        airflow.DAG.last.tasks.append(self)
    # The provider's signature; it calls it with keywords.
    def cleanup(self, pod, remote_pod, xcom_result=None, context=None):
        statuses = remote_pod.status.container_statuses
        code = statuses[0].state.terminated.exit_code if statuses else None
        if code != 0:
            raise AirflowException("Pod returned a failure")
`)
	write("kubernetes/client/__init__.py", "from . import models\n")
	write("kubernetes/client/models.py", `
class _M:
    def __init__(self, **kw): self.__dict__.update(kw)
class V1EnvFromSource(_M): pass
class V1SecretEnvSource(_M): pass
class V1EnvVar(_M): pass
class V1ResourceRequirements(_M): pass
`)
	script := `
import importlib.util, sys, types
spec = importlib.util.spec_from_file_location("dag", sys.argv[1])
mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
import airflow
from airflow.exceptions import AirflowException, AirflowFailException
d = airflow.DAG.last
assert d.dag_id == "salesnav_etl" and d.kw["max_active_runs"] == 1 and d.kw["default_args"]["retries"] > 0
(task,) = d.tasks
kw = task.kw
assert kw["arguments"][0] == "run", kw["arguments"]
assert kw["arguments"][1].startswith("--from={{") and "backfill" in kw["arguments"][1]
assert kw["arguments"][2].startswith("--to={{") and "data_interval_end" in kw["arguments"][2]
assert kw["env_from"][0].secret_ref.name == "salesnav-etl"
names = {e.name for e in kw["env_vars"]}
print("ENV", " ".join(sorted(names)))
print("PARENT", next((e.value for e in kw["env_vars"] if e.name == "OPENLINEAGE_PARENT_ID"), "-"))
def pod(code):
    if code is None:  # never started
        return types.SimpleNamespace(status=types.SimpleNamespace(container_statuses=[]))
    t = types.SimpleNamespace(exit_code=code)
    cs = types.SimpleNamespace(name="base", state=types.SimpleNamespace(terminated=t))
    return types.SimpleNamespace(status=types.SimpleNamespace(container_statuses=[cs]))
task.cleanup(pod=None, remote_pod=pod(0), xcom_result=None, context={})
for code, want in [(75, AirflowException), (137, AirflowException), (None, AirflowException),
                   (1, AirflowFailException), (2, AirflowFailException), (3, AirflowFailException)]:
    try:
        task.cleanup(pod=None, remote_pod=pod(code), xcom_result=None, context={})
        raise SystemExit(f"exit {code} raised nothing")
    except AirflowException as e:
        if type(e) is not want:
            raise SystemExit(f"exit {code}: {type(e).__name__}, want {want.__name__}")
print("OK")
`
	check := func() string {
		cmd := exec.Command(py, "-c", script, dag)
		cmd.Env = append(os.Environ(), "PYTHONPATH="+stubs, "PYTHONDONTWRITEBYTECODE=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "OK") {
			t.Fatalf("DAG check: %v\n%s", err, out)
		}
		return string(out)
	}
	// Without Airflow's OpenLineage provider, whose macro renders the
	// parent, the pod gets no parent; with it, the task's run as the
	// parent, in the variable salesnav-etl reads.
	if out := check(); !strings.Contains(out, "PARENT -\n") {
		t.Errorf("without the OpenLineage provider, the DAG passes a parent:\n%s", out)
	}
	write("airflow/providers/openlineage/__init__.py", "")
	out := check()
	if want := "PARENT {{ macros.OpenLineageProviderPlugin.lineage_parent_id(task_instance) }}\n"; !strings.Contains(out, want) ||
		!strings.Contains(out, " "+lineageParentVar) {
		t.Errorf("with the OpenLineage provider, the DAG does not pass %s as %q:\n%s", lineageParentVar, want, out)
	}
	known := envDefaults()
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "ENV "); ok {
			for _, name := range strings.Fields(rest) {
				if v, ok := strings.CutPrefix(name, envPrefix); ok {
					if _, k := known[v]; !k {
						t.Errorf("the DAG sets %s, which salesnav-etl does not read", name)
					}
				}
			}
		}
	}
	// The arguments of a scheduled run ("--from=" and "--to=", empty) are
	// an incremental run, not a backfill.
	if code, _, stderr := runCLI(t, map[string]string{"SALESNAV_START": "2026-02-01", "SALESNAV_END": "2026-02-02",
		"SALESNAV_PARQUET_DIR": t.TempDir(), "SALESNAV_STREAMS": "seat"}, "run", "--fake-api", "--from=", "--to="); code != ExitOK || strings.Contains(stderr, `"backfill":true`) {
		t.Errorf("run --from= --to=: exit %d, %s", code, stderr)
	}
}
