package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/ferrysync/ferry/client"
	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"
)

// What the commands print.

// oneLine is s on one line: runs of white space, line ends included, become
// single spaces.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// cut shortens s to width runes, ending it with "…" when it was longer;
// width <= 0 leaves s as it is.
func cut(s string, width int) string {
	if width <= 0 || utf8.RuneCountInString(s) <= width {
		return s
	}
	r := []rune(s)
	return string(r[:width-1]) + "…"
}

func orDash(s string) string {
	return orDefault(s, "-")
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// formatTime is t in local time, "-" when zero.
func formatTime(t time.Time, layout string) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format(layout)
}

// printJSON writes v as indented JSON, for --json.
func printJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeTable writes a header and rows of tab-separated cells as aligned
// columns.
func writeTable(out io.Writer, header string, rows []string) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, header)
	for _, r := range rows {
		fmt.Fprintln(w, r)
	}
	return w.Flush()
}

// details collects "Label:  value" lines, the labels in a column of width.
type details struct {
	b     strings.Builder
	width int
}

func (d *details) line(label, text string) { d.field(label+":", text) }

// field writes a line under a label given with its colon; an empty one
// continues the field above.
func (d *details) field(label, text string) { fmt.Fprintf(&d.b, "%-*s %s\n", d.width, label, text) }

// repos lists a spec's repositories, one a line.
func (d *details) repos(project string, objects []client.ReplicaObject) {
	for i, o := range objects {
		label := ""
		if i == 0 {
			label = "Repos:"
		}
		d.field(label, replicaObjectText(project, o))
	}
}

func (d *details) writeTo(out io.Writer) error {
	_, err := io.WriteString(out, d.b.String())
	return err
}

// showPage writes the page a show command shows below its item (with
// write), after a blank line, and the page's footer on stderr.
func showPage(cmd *cobra.Command, write func(io.Writer) error, page int, pages, records int64, what string) error {
	out := cmd.OutOrStdout()
	fmt.Fprintln(out)
	if err := write(out); err != nil {
		return err
	}
	pageFooter(cmd.ErrOrStderr(), page, pages, records, what)
	return nil
}

// pageFooter tells on stderr that more pages exist.
func pageFooter(w io.Writer, page int, pages, records int64, what string) {
	if page < 1 {
		page = 1
	}
	if int64(page) < pages {
		fmt.Fprintf(w, "page %d of %d (%d %s); --page %d for the next\n", page, pages, records, what, page+1)
	}
}

// What the commands read: spec and task files.

// readStrict reads a file (name "-": stdin) as decodeStrict decodes it,
// naming the file in errors.
func readStrict[T any](name string, stdin io.Reader, what string) (T, error) {
	var zero T
	var data []byte
	var err error
	if name == "-" {
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(name)
	}
	if err != nil {
		return zero, err
	}
	v, err := decodeStrict[T](data, name, what)
	if err != nil {
		return zero, fmt.Errorf("%s %s: %w", what, name, err)
	}
	return v, nil
}

// decodeStrict decodes one document of what (a spec, a task) into a T: as
// JSON when name ends with .json or data starts with "{" (and name does not
// end with .yaml or .yml), as YAML otherwise. Either way the JSON field names
// apply and unknown fields are errors, so that a misspelt field is not
// silently left out.
func decodeStrict[T any](data []byte, name, what string) (T, error) {
	var zero T
	ext := strings.ToLower(filepath.Ext(name))
	isJSON := ext == ".json" || ext != ".yaml" && ext != ".yml" && bytes.HasPrefix(bytes.TrimSpace(data), []byte("{"))
	if !isJSON {
		j, err := yamlToJSON(data, what)
		if err != nil {
			return zero, err
		}
		data = j
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var out T
	if err := dec.Decode(&out); err != nil {
		if err == io.EOF {
			return zero, errors.New("empty " + what)
		}
		return zero, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return zero, errors.New("data after the " + what)
	}
	return out, nil
}

// yamlToJSON re-encodes a YAML document as JSON, for decodeStrict.
func yamlToJSON(data []byte, what string) ([]byte, error) {
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	if v == nil {
		return nil, errors.New("empty " + what)
	}
	return json.Marshal(jsonValue(v))
}

// jsonValue converts what yaml.v3 decodes into values encoding/json takes:
// mappings with keys other than strings become maps with string keys.
func jsonValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = jsonValue(e)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = jsonValue(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = jsonValue(e)
		}
		return x
	}
	return v
}
