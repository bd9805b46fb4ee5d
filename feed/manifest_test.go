package feed

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

var (
	sumA = strings.Repeat("a", 64)
	sumB = strings.Repeat("0123456789abcdef", 4)
)

func TestParseManifestAccepts(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []Entry
	}{
		{"empty", "", nil},
		{"one row, trailing newline", "1.iso," + sumA + ",1048576\n", []Entry{{"1.iso", sumA, 1048576}}},
		{"no trailing newline", "1.iso," + sumA + ",5", []Entry{{"1.iso", sumA, 5}}},
		{"crlf", "1.iso," + sumA + ",5\r\nsub/3.iso," + sumB + ",0\r\n",
			[]Entry{{"1.iso", sumA, 5}, {"sub/3.iso", sumB, 0}}},
		{"upper-case checksum made lower", "x," + strings.ToUpper(sumB) + ",7\n", []Entry{{"x", sumB, 7}}},
		{"leading zeros", "x," + sumA + ",007\n", []Entry{{"x", sumA, 7}}},
		{"quoted name with comma and quote", `"a,""b"".iso",` + sumA + ",1\n", []Entry{{`a,"b".iso`, sumA, 1}}},
		{"quoted size", "x," + sumA + `,"12"` + "\n", []Entry{{"x", sumA, 12}}},
		{"text after a closing quote joins the field", `"a"b.iso,` + sumA + ",1\n", []Entry{{"ab.iso", sumA, 1}}},
		{"quote inside an unquoted field is text", `a"b.iso,` + sumA + ",1\n", []Entry{{`a"b.iso`, sumA, 1}}},
		{"quoted field open at the end of the data", "x," + sumA + `,"12`, []Entry{{"x", sumA, 12}}},
		{"spaces and unicode in a name", "my disc é.iso," + sumA + ",1\n", []Entry{{"my disc é.iso", sumA, 1}}},
		{"a later row replaces an earlier one in its place",
			"a," + sumA + ",1\nb," + sumA + ",2\na," + sumB + ",3\n",
			[]Entry{{"a", sumB, 3}, {"b", sumA, 2}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseManifest(strings.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseManifestRefuses(t *testing.T) {
	row := "1.iso," + sumA + ",5\n"
	for _, tc := range []struct{ name, in, why string }{
		{"blank line between rows", row + "\n" + row, "Line 2: a blank line"},
		{"two newlines at the end", row + "\n", "Line 2: a blank line"},
		{"blank crlf line", row + "\r\n", "Line 2: a blank line"},
		{"only a newline", "\n", "Line 1: a blank line"},
		{"two fields", "1.iso," + sumA + "\n", "2 fields"},
		{"four fields", row[:len(row)-1] + ",x\n", "4 fields"},
		{"one blank field", " \n", "1 fields"},
		{"trailing comma", "1.iso," + sumA + ",5,\n", "4 fields"},
		{"header", "name,checksum,size\n" + row, "checksum \"checksum\""},
		{"negative size", "1.iso," + sumA + ",-1\n", "size \"-1\""},
		{"fractional size", "1.iso," + sumA + ",1.5\n", "size"},
		{"size with a blank", "1.iso," + sumA + ", 5\n", "size"},
		{"size with a sign", "1.iso," + sumA + ",+5\n", "size"},
		{"empty size", "1.iso," + sumA + ",\n", "size"},
		{"size too large", "1.iso," + sumA + ",99999999999999999999\n", "size"},
		{"short checksum", "1.iso,abc,5\n", "checksum"},
		{"non-hex checksum", "1.iso," + strings.Repeat("g", 64) + ",5\n", "checksum"},
		{"md5 checksum", "1.iso," + strings.Repeat("a", 32) + ",5\n", "checksum"},
		{"empty name", "," + sumA + ",5\n", "empty name"},
		{"absolute name", "/etc/passwd," + sumA + ",5\n", "absolute"},
		{"dot-dot name", "../x," + sumA + ",5\n", `".."`},
		{"dot-dot inside", "a/../../x," + sumA + ",5\n", `".."`},
		{"dot segment", "./x," + sumA + ",5\n", "segment"},
		{"double slash", "a//x," + sumA + ",5\n", "segment"},
		{"trailing slash", "a/," + sumA + ",5\n", "segment"},
		{"backslash", `a\x,` + sumA + ",5\n", "backslash"},
		{"control character", "\"a\nb\"," + sumA + ",5\n", "control"},
		{"invalid utf-8", "a\xff," + sumA + ",5\n", "UTF-8"},
		{"carriage return inside a field", "a\rb," + sumA + ",5\n", "carriage return"},
		{"second row bad", row + "2.iso,x,5\n", "Line 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseManifest(strings.NewReader(tc.in))
			if err == nil {
				t.Fatalf("accepted: %+v", got)
			}
			if !errors.Is(err, ErrManifestFormat) || !strings.HasPrefix(err.Error(), "The PULP_MANIFEST file was not in the expected format.") {
				t.Fatalf("error %q does not start with Pulp's sentence", err)
			}
			if !strings.Contains(err.Error(), tc.why) {
				t.Fatalf("error %q does not say %q", err, tc.why)
			}
		})
	}
}

func TestParseManifestReadError(t *testing.T) {
	boom := errors.New("connection reset")
	_, err := ParseManifest(&failingReader{data: "1.iso," + sumA + ",5\n2.iso,", err: boom})
	if !errors.Is(err, boom) || errors.Is(err, ErrManifestFormat) {
		t.Fatalf("got %v, want the reader's error", err)
	}
}

type failingReader struct {
	data string
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.data == "" {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestWriteManifestRoundTrip(t *testing.T) {
	in := []Entry{{"1.iso", sumA, 1}, {`odd, "name".iso`, sumB, 0}, {"sub/dir/x", sumA, 1 << 40}}
	var buf bytes.Buffer
	if err := WriteManifest(&buf, in); err != nil {
		t.Fatal(err)
	}
	want := "1.iso," + sumA + ",1\n" + `"odd, ""name"".iso",` + sumB + ",0\nsub/dir/x," + sumA + ",1099511627776\n"
	if buf.String() != want {
		t.Fatalf("wrote %q, want %q", buf.String(), want)
	}
	out, err := ParseManifest(&buf)
	if err != nil || !reflect.DeepEqual(out, in) {
		t.Fatalf("read back %+v, %v", out, err)
	}
}

func FuzzParseManifest(f *testing.F) {
	for _, s := range []string{
		"",
		"1.iso," + sumA + ",1048576\n2.iso," + sumB + ",1048576\nsub/3.iso," + sumA + ",1048576\n",
		"a," + sumA + ",1\r\nb," + strings.ToUpper(sumB) + ",2",
		`"a,""b""",` + sumA + ",3\n",
		`"a"b,` + sumA + `,"4`,
		"a," + sumA + ",1\n\n",
		"a," + sumA + ",1\na," + sumB + ",2\n",
		"../a," + sumA + ",1\n",
		"a\rb,c,d\n",
		"\"x\ny\",1,2\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		entries, err := ParseManifest(strings.NewReader(in))
		if err != nil {
			if !errors.Is(err, ErrManifestFormat) {
				t.Fatalf("error %v does not wrap ErrManifestFormat", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, e := range entries {
			if seen[e.Name] {
				t.Fatalf("name %q twice", e.Name)
			}
			seen[e.Name] = true
			if checkName(e.Name) != nil || len(e.SHA256) != 64 || strings.ToLower(e.SHA256) != e.SHA256 || e.Size < 0 {
				t.Fatalf("accepted a bad entry %+v", e)
			}
		}
		var buf bytes.Buffer
		if err := WriteManifest(&buf, entries); err != nil {
			t.Fatal(err)
		}
		again, err := ParseManifest(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("re-serialised %q does not parse: %v", buf.String(), err)
		}
		if len(entries) == 0 && len(again) == 0 {
			return
		}
		if !reflect.DeepEqual(again, entries) {
			t.Fatalf("re-parsed %+v, want %+v", again, entries)
		}
	})
}
