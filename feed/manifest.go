package feed

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ferrysync/ferry/store"
)

// ManifestName is the file a feed lists its files in, under the feed URL.
const ManifestName = "PULP_MANIFEST"

// ErrManifestFormat is Pulp's sentence for a manifest it cannot read. Every
// error of ParseManifest about the content wraps it and adds the line and
// why; an error of the reader is returned as it is.
var ErrManifestFormat = errors.New("The PULP_MANIFEST file was not in the expected format.")

// Entry is one row of a manifest: a file of the feed.
type Entry struct {
	// Name is the file's path relative to the feed, with "/" between
	// folders ("sub/3.iso"); the repository holds it at "/" + Name.
	Name string
	// SHA256 is the content's sha256 in lowercase hex.
	SHA256 string
	// Size is the content's length in bytes.
	Size int64
}

// fieldLimit is Python's csv.field_size_limit() default: a longer field
// is an error there, so it is one here.
const fieldLimit = 128 << 10

// ParseManifest reads a PULP_MANIFEST as Pulp's ISOManifest reads it:
// Python's csv.reader with the default dialect, one row per file and
// exactly three fields name,checksum,size, no header.
//
// The whole manifest is invalid (an error wrapping ErrManifestFormat) when
// any row has other than three fields (a blank line is a row of none; a
// newline at the end of the last row is not a blank line), a size is not
// decimal digits (Python's int() would also take a sign, surrounding
// blanks and underscores; a feed has no use for them), a checksum is not 64
// hex digits (upper case is taken and made lower), or a name is not a
// clean relative path: empty, absolute ("/a"), with a "." or ".." segment,
// an empty segment ("a//b", "a/"), or what the store refuses in a path
// (control characters, backslashes, invalid UTF-8, over store.MaxPathBytes).
// A name is taken byte for byte: it is the repository path and, escaped,
// the URL path below the feed.
//
// A name listed again replaces the earlier row, at the earlier row's place
// (as a Python dict built from the rows would): a path holds one file. Pulp
// 2 made both rows units, and which one a publish showed at that name was
// not defined.
//
// Lines end at "\n" ("\r\n" too), as a Python 2 file iterates; quoted
// fields follow Python's csv in its non-strict mode, text after a closing
// quote included.
func ParseManifest(r io.Reader) ([]Entry, error) {
	cr := &csvReader{br: bufio.NewReader(r)}
	var out []Entry
	at := map[string]int{}
	for {
		fields, line, err := cr.next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		e, err := parseRow(fields)
		if err != nil {
			return nil, fmt.Errorf("%w Line %d: %v.", ErrManifestFormat, line, err)
		}
		if i, ok := at[e.Name]; ok {
			out[i] = e
			continue
		}
		at[e.Name] = len(out)
		out = append(out, e)
	}
}

func parseRow(fields []string) (Entry, error) {
	if len(fields) == 0 {
		return Entry{}, errors.New("a blank line; every line is name,checksum,size")
	}
	if len(fields) != 3 {
		return Entry{}, fmt.Errorf("%d fields, expected 3 (name,checksum,size)", len(fields))
	}
	name, sum, size := fields[0], fields[1], fields[2]
	if err := checkName(name); err != nil {
		return Entry{}, err
	}
	if len(sum) != 64 || strings.Trim(sum, "0123456789abcdefABCDEF") != "" {
		return Entry{}, fmt.Errorf("checksum %q of %q is not a sha256 (64 hex digits)", sum, name)
	}
	n, err := parseSize(size)
	if err != nil {
		return Entry{}, fmt.Errorf("size %q of %q is not a number of bytes", size, name)
	}
	return Entry{Name: name, SHA256: strings.ToLower(sum), Size: n}, nil
}

func parseSize(s string) (int64, error) {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseInt(s, 10, 64)
}

// checkName accepts a name whose repository path is "/" + name exactly.
func checkName(name string) error {
	switch {
	case name == "":
		return errors.New("an empty name")
	case strings.HasPrefix(name, "/"):
		return fmt.Errorf("name %q is absolute; names are relative to the feed", name)
	}
	for seg := range strings.SplitSeq(name, "/") {
		switch seg {
		case "..":
			return fmt.Errorf("name %q has a \"..\" segment: it would leave the feed", name)
		case "", ".":
			return fmt.Errorf("name %q has an empty or \".\" segment", name)
		}
	}
	p, err := store.NormalizeFilePath(name)
	if err != nil {
		return fmt.Errorf("name %q is not a path: %v", name, err)
	}
	if p != "/"+name { // what the checks above missed, should the store's rules grow
		return fmt.Errorf("name %q is not a clean path (it would be %q)", name, p)
	}
	return nil
}

// WriteManifest writes entries as a PULP_MANIFEST that ParseManifest (and
// Pulp) reads back as the same entries: a name with a comma or a quote is
// quoted as Python's csv writer quotes it; lines end in "\n".
func WriteManifest(w io.Writer, entries []Entry) error {
	bw := bufio.NewWriter(w)
	for _, e := range entries {
		name := e.Name
		if strings.ContainsAny(name, ",\"\r\n") {
			name = `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
		}
		if _, err := fmt.Fprintf(bw, "%s,%s,%d\n", name, e.SHA256, e.Size); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// csvReader splits rows as Python's _csv reader does with the default
// ("excel") dialect: delimiter ',', quote '"', doubled quotes, no escape
// character, no skipping of initial spaces, not strict.
type csvReader struct {
	br   *bufio.Reader
	line int // physical lines read
}

type csvState int

const (
	startRecord csvState = iota
	startField
	inField
	inQuoted
	quoteInQuoted
	eatCRNL
)

// next returns the next row and the line it starts on; io.EOF after the
// last row. A blank line is a row without fields.
func (c *csvReader) next() (fields []string, line int, err error) {
	var field []byte
	state := startRecord
	line = c.line + 1
	save := func() {
		fields = append(fields, string(field))
		field = field[:0]
	}
	add := func(ch byte) error {
		if len(field) >= fieldLimit {
			return fmt.Errorf("%w Line %d: a field is longer than %d bytes.", ErrManifestFormat, c.line, fieldLimit)
		}
		field = append(field, ch)
		return nil
	}
	for {
		text, rerr := c.br.ReadString('\n')
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return nil, line, rerr
		}
		if text == "" { // end of input
			if state == inQuoted { // not strict: the open field ends with the data
				save()
				return fields, line, nil
			}
			return nil, line, io.EOF
		}
		c.line++
		for i := 0; i < len(text); i++ {
			ch := text[i]
			if state == startRecord {
				if ch == '\n' || ch == '\r' {
					state = eatCRNL
					continue
				}
				state = startField
			}
			var err error
			switch state {
			case startField:
				switch ch {
				case '\n', '\r':
					save()
					state = eatCRNL
				case '"':
					state = inQuoted
				case ',':
					save()
				default:
					err = add(ch)
					state = inField
				}
			case inField:
				switch ch {
				case '\n', '\r':
					save()
					state = eatCRNL
				case ',':
					save()
					state = startField
				default:
					err = add(ch)
				}
			case inQuoted:
				if ch == '"' {
					state = quoteInQuoted
				} else {
					err = add(ch)
				}
			case quoteInQuoted:
				switch ch {
				case '"':
					err = add('"')
					state = inQuoted
				case ',':
					save()
					state = startField
				case '\n', '\r':
					save()
					state = eatCRNL
				default: // not strict: text after the closing quote joins the field
					err = add(ch)
					state = inField
				}
			case eatCRNL:
				if ch != '\n' && ch != '\r' {
					return nil, line, fmt.Errorf("%w Line %d: a carriage return inside an unquoted field.", ErrManifestFormat, c.line)
				}
			}
			if err != nil {
				return nil, line, err
			}
		}
		// The end of the line.
		switch state {
		case startField, inField, quoteInQuoted:
			save()
		case inQuoted:
			continue // the quoted field goes on in the next line
		}
		return fields, line, nil
	}
}
