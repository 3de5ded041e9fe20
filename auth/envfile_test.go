package auth_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/salesnav-etl/salesnav-etl/auth"
)

func TestUpdateEnv(t *testing.T) {
	tokens := []auth.Var{{Name: "SALESNAV_ACCESS_TOKEN", Value: "a1"}, {Name: "SALESNAV_REFRESH_TOKEN", Value: "r1"}}
	for _, tc := range []struct {
		name, old string
		vars      []auth.Var
		drop      []string
		want      string
	}{
		{"new file", "", tokens, nil, "SALESNAV_ACCESS_TOKEN=a1\nSALESNAV_REFRESH_TOKEN=r1\n"},
		{"other lines kept, tokens appended",
			"# the app\nSALESNAV_CLIENT_ID=cid\n\nSALESNAV_CLIENT_SECRET=s", tokens, nil,
			"# the app\nSALESNAV_CLIENT_ID=cid\n\nSALESNAV_CLIENT_SECRET=s\nSALESNAV_ACCESS_TOKEN=a1\nSALESNAV_REFRESH_TOKEN=r1\n"},
		{"replaced in place, duplicates removed, export kept",
			"SALESNAV_REFRESH_TOKEN=old\nSALESNAV_CLIENT_ID=cid\nexport SALESNAV_ACCESS_TOKEN=old\nSALESNAV_REFRESH_TOKEN=older\n", tokens, nil,
			"SALESNAV_REFRESH_TOKEN=r1\nSALESNAV_CLIENT_ID=cid\nexport SALESNAV_ACCESS_TOKEN=a1\n"},
		{"no refresh token: the old one dropped",
			"SALESNAV_CLIENT_ID=cid\nSALESNAV_REFRESH_TOKEN=old\nSALESNAV_ACCESS_TOKEN=old\n", tokens[:1], []string{"SALESNAV_REFRESH_TOKEN"},
			"SALESNAV_CLIENT_ID=cid\nSALESNAV_ACCESS_TOKEN=a1\n"},
		{"lookalikes untouched",
			"#SALESNAV_ACCESS_TOKEN=x\nSALESNAV_ACCESS_TOKEN_OLD=y\n  SALESNAV_ACCESS_TOKEN = z\n", tokens[:1], nil,
			"#SALESNAV_ACCESS_TOKEN=x\nSALESNAV_ACCESS_TOKEN_OLD=y\n  SALESNAV_ACCESS_TOKEN = z\nSALESNAV_ACCESS_TOKEN=a1\n"},
		{"a value a shell would change is quoted", "", []auth.Var{{Name: "A", Value: "it's $HOME ~x"}}, nil, `A='it'\''s $HOME ~x'` + "\n"},
	} {
		if got := string(auth.UpdateEnv([]byte(tc.old), tc.vars, tc.drop)); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

// The file is written with mode 0600 through a rename (an existing file
// that was more open becomes 0600), and a shell that sources it gets the
// values exactly.
func TestWriteEnvFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "salesnav.env")
	if err := os.WriteFile(path, []byte("SALESNAV_CLIENT_ID=cid\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	vars := []auth.Var{{Name: "SALESNAV_ACCESS_TOKEN", Value: "AQV-x_y.z+/="}, {Name: "SALESNAV_REFRESH_TOKEN", Value: `we'ird $tok "en" \n`}}
	if err := auth.WriteEnvFile(path, vars, nil); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d entries in the directory: a temporary file was left", len(entries))
	}
	out, err := exec.Command("sh", "-c", `set -a; . "$1"; printf '%s\n%s\n%s' "$SALESNAV_CLIENT_ID" "$SALESNAV_ACCESS_TOKEN" "$SALESNAV_REFRESH_TOKEN"`, "sh", path).Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "cid\n" + vars[0].Value + "\n" + vars[1].Value; string(out) != want {
		t.Errorf("sourced: %q, want %q", out, want)
	}
	// A directory where the file should be: a clear error.
	if err := auth.WriteEnvFile(dir, vars, nil); err == nil || !strings.Contains(err.Error(), "env file") {
		t.Errorf("a directory: %v", err)
	}
}
