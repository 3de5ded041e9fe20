package cli

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/salesnav-etl/salesnav-etl/schema"
)

// varDoc is one SALESNAV_* variable as Env's struct tags declare it: its
// name (env, without the prefix), its default (or a computed one,
// computedDefaults), the flag that overrides it
// (flag) and what it does (doc). That one declaration drives reading the
// environment (go-envconfig), the names in messages, --help, config check
// and the configuration reference (docs/configuration.md), which a test
// keeps in step.
type varDoc struct {
	Env, Default, Flag, Doc string
	// Parse is how a value of a plain kind is parsed (parse tag):
	// duration (positive), duration0 (0 or more), int:MIN:MAX,
	// days:MIN:MAX (30d or 30), ratio (0 to 1), size (bytes, with an
	// optional KiB, MiB or GiB suffix) or oneof:A|B|C:NOUN. Values of other
	// kinds are checked by Resolve.
	Parse string
	// Secret marks a credential (secret tag): "value" when the whole
	// value is one, "url" when a URL's password and query are. Secrets are
	// masked in everything the command line writes (secrets.go).
	Secret string
	field  int // index in Env
}

// varDocs are Env's variables, in declaration order.
var varDocs = func() []varDoc {
	var out []varDoc
	t := reflect.TypeOf(Env{})
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("env")
		if tag == "" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		v := varDoc{Env: strings.TrimSpace(name), Flag: f.Tag.Get("flag"), Doc: f.Tag.Get("doc"), Parse: f.Tag.Get("parse"), Secret: f.Tag.Get("secret"), field: i}
		if _, d, ok := strings.Cut(opts, "default="); ok {
			v.Default = d
		}
		out = append(out, v)
	}
	return out
}()

// computedDefaults are the defaults that derive from elsewhere: the
// streams a run takes when SALESNAV_STREAMS is unset come from the stream
// registry (schema.Stream.DefaultOn).
var computedDefaults = map[string]func() string{
	"STREAMS": func() string { return strings.Join(schema.Names(schema.Defaults()), ",") },
}

// envDefaults maps each Env variable (without the prefix) to its default,
// a computed one as it is now.
func envDefaults() map[string]string {
	out := map[string]string{}
	for _, v := range varDocs {
		out[v.Env] = v.Default
		if def := computedDefaults[v.Env]; def != nil {
			out[v.Env] = def()
		}
	}
	return out
}

// variablesHelp renders every variable for --help: name, flag, default,
// and what it does.
func variablesHelp() string {
	defs := envDefaults()
	var b strings.Builder
	b.WriteString("Configuration (environment; flags override):\n")
	for _, v := range varDocs {
		line := "  " + envPrefix + v.Env
		if v.Flag != "" {
			line += " (--" + v.Flag + ")"
		}
		fmt.Fprintf(&b, "%s\n      %s", line, v.Doc)
		if d := defs[v.Env]; d != "" {
			fmt.Fprintf(&b, " [default %s]", d)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// parseValue parses raw as v.Parse says. The problem, when there is one,
// is worded for a message that names the variable.
func (v varDoc) parseValue(raw string) (any, string) {
	kind, arg, _ := strings.Cut(v.Parse, ":")
	switch kind {
	case "duration", "duration0":
		d, err := time.ParseDuration(raw)
		if kind == "duration" && (err != nil || d <= 0) {
			return time.Duration(0), fmt.Sprintf("%q is not a positive duration (such as 30s, 5m)", raw)
		}
		if err != nil || d < 0 {
			return time.Duration(0), fmt.Sprintf("%q is not a duration (such as 30s; 0 for none)", raw)
		}
		return d, ""
	case "int":
		lo, hi, _ := strings.Cut(arg, ":")
		minN, _ := strconv.Atoi(lo)
		maxN, _ := strconv.Atoi(hi)
		n, err := strconv.Atoi(raw)
		if err != nil || n < minN || n > maxN {
			return n, fmt.Sprintf("%q is not a whole number from %d to %d", raw, minN, maxN)
		}
		return n, ""
	case "days":
		lo, hi, _ := strings.Cut(arg, ":")
		minN, _ := strconv.Atoi(lo)
		maxN, _ := strconv.Atoi(hi)
		n, err := strconv.Atoi(strings.TrimSuffix(raw, "d"))
		if err != nil || n < minN || n > maxN {
			return n, fmt.Sprintf("%q is not a number of days from %d to %d (such as 30d)", raw, minN, maxN)
		}
		return n, ""
	case "ratio":
		r, err := strconv.ParseFloat(raw, 64)
		if err != nil || r < 0 || r > 1 {
			return float64(0), fmt.Sprintf("%q is not a ratio between 0 and 1", raw)
		}
		return r, ""
	case "size":
		n, err := parseSize(raw)
		if err != nil {
			return int64(0), fmt.Sprintf("%q is not a size (such as 16MiB)", raw)
		}
		return n, ""
	case "oneof":
		list, noun, _ := strings.Cut(arg, ":")
		choices := strings.Split(list, "|")
		if !slices.Contains(choices, raw) {
			return raw, fmt.Sprintf("%q is not a %s (%s)", raw, noun, strings.Join(choices, ", "))
		}
		return raw, ""
	}
	panic(fmt.Sprintf("SALESNAV_%s: unknown parse kind %q", v.Env, v.Parse))
}

// parsed parses the variable at ptr as its declaration says, reporting a
// problem through bad; T is the kind's Go type.
func parsed[T any](e *Env, ptr *string, bad func(*string, string, ...any)) T {
	val, problem := e.decls[ptr].parseValue(*ptr)
	if problem != "" {
		bad(ptr, "%s", problem)
	}
	return val.(T)
}
