package main

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/ferrysync/ferry/client"
	"github.com/ferrysync/ferry/oci"
	"github.com/spf13/cobra"
)

// parseArtifactRef splits "project/repo/path/to/file" into its parts. The
// path is returned without a leading slash; with needPath false it may be ""
// ("project/repo" or "project/repo/" name the repository's root) and a
// trailing slash is allowed (it names a folder).
func parseArtifactRef(s string, needPath bool) (project, repo, path string, err error) {
	want := "project/repo/path"
	if !needPath {
		want = "project/repo[/path]"
	}
	if s == "" {
		return "", "", "", fmt.Errorf("empty artifact reference: want %s", want)
	}
	if strings.HasPrefix(s, "/") {
		return "", "", "", fmt.Errorf("artifact reference %q starts with \"/\": want %s", s, want)
	}
	project, rest, ok := strings.Cut(s, "/")
	if !ok || project == "" {
		return "", "", "", fmt.Errorf("artifact reference %q has no repository: want %s", s, want)
	}
	repo, path, _ = strings.Cut(rest, "/")
	if repo == "" {
		return "", "", "", fmt.Errorf("artifact reference %q has an empty repository name: want %s", s, want)
	}
	if project == "." || project == ".." {
		return "", "", "", fmt.Errorf("artifact reference %q: invalid project name %q", s, project)
	}
	if repo == "." || repo == ".." {
		return "", "", "", fmt.Errorf("artifact reference %q: invalid repository name %q", s, repo)
	}
	if !needPath {
		path = strings.TrimSuffix(path, "/")
	}
	if path == "" {
		if needPath {
			return "", "", "", fmt.Errorf("artifact reference %q has no file path: want %s", s, want)
		}
		return project, repo, "", nil
	}
	if needPath && strings.HasSuffix(path, "/") {
		return "", "", "", fmt.Errorf("artifact reference %q ends with \"/\": want a file path", s)
	}
	for _, seg := range strings.Split(path, "/") {
		switch seg {
		case "":
			return "", "", "", fmt.Errorf("artifact reference %q: empty path segment (\"//\")", s)
		case ".", "..":
			return "", "", "", fmt.Errorf("artifact reference %q: %q is not allowed in a path", s, seg)
		}
	}
	return project, repo, path, nil
}

// artifactFlags are the flags every artifact command takes.
type artifactFlags struct {
	clientFlags
	cluster string
}

func (f *artifactFlags) bind(cmd *cobra.Command) {
	f.clientFlags.bind(cmd)
	cmd.Flags().StringVar(&f.cluster, "cluster", "", "reach another cluster's store through the addressed agent")
}

func newPutCmd() *cobra.Command {
	var (
		f           artifactFlags
		metaFlags   []string
		noOverwrite bool
	)
	cmd := &cobra.Command{
		Use:   "put FILE project/repo/path",
		Short: "Upload a file to a generic repository",
		Long: `Upload FILE to project/repo/path. The file's SHA-256 is computed first and the
agent stores nothing unless what it receives matches. A path ending in "/"
names a folder: the file keeps its own name there.`,
		Example: `  ferry put build/app.tar.gz releases/generic/app/1.2.0/
  ferry put app.tar.gz releases/generic/app/1.2.0/app.tar.gz --meta commit=abc123 --no-overwrite`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			file, ref := args[0], args[1]
			if strings.HasSuffix(ref, "/") {
				ref += filepath.Base(file)
			}
			project, repo, path, err := parseArtifactRef(ref, true)
			if err != nil {
				return err
			}
			meta, err := parseMetaFlags(metaFlags)
			if err != nil {
				return err
			}
			opt := client.UploadOptions{Metadata: meta, NoOverwrite: noOverwrite}
			return put(cmd, f.client(), file, client.ArtifactRef{Project: project, Repo: repo, Path: path, Cluster: f.cluster}, opt)
		},
	}
	f.bind(cmd)
	cmd.Flags().StringArrayVar(&metaFlags, "meta", nil, "metadata key=value (repeatable)")
	cmd.Flags().BoolVar(&noOverwrite, "no-overwrite", false, "fail if the path already holds a file")
	return cmd
}

// parseMetaFlags is the metadata of the --meta key=value flags.
func parseMetaFlags(flags []string) (map[string]string, error) {
	meta := map[string]string{}
	for _, kv := range flags {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--meta %q: want key=value", kv)
		}
		if !validMetaKey(k) {
			return nil, fmt.Errorf("--meta %q: keys are letters, digits, '-', '_' and '.'", kv)
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			return nil, fmt.Errorf("--meta %q: value holds a control character", kv)
		}
		meta[k] = v
	}
	return meta, nil
}

func validMetaKey(k string) bool {
	for _, r := range k {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
		if !ok {
			return false
		}
	}
	return k != ""
}

// put uploads file to ref, its SHA-256 computed first so that the agent
// can check the content as it arrives, and prints what was stored.
func put(cmd *cobra.Command, c *client.Client, file string, ref client.ArtifactRef, opt client.UploadOptions) error {
	fh, err := os.Open(file)
	if err != nil {
		return err
	}
	defer fh.Close()
	if opt.Size, opt.SHA256, err = hashFile(fh, file, cmd.ErrOrStderr()); err != nil {
		return err
	}
	up := stderrProgress(cmd.ErrOrStderr(), "upload", opt.Size)
	node, err := c.Upload(cmd.Context(), ref, up.reader(fh), opt)
	up.finish()
	if err != nil {
		return fmt.Errorf("upload %s to %s/%s/%s: %w", file, ref.Project, ref.Repo, ref.Path, err)
	}
	if node.SHA256 != "" && !strings.EqualFold(node.SHA256, opt.SHA256) {
		return fmt.Errorf("agent stored sha256 %s, but %s has %s", node.SHA256, file, opt.SHA256)
	}
	stored := orDefault(strings.TrimPrefix(node.FullPath, "/"), ref.Path)
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "stored: %s/%s/%s\n", ref.Project, ref.Repo, stored)
	fmt.Fprintf(out, "size:   %d bytes (%s)\n", opt.Size, formatSize(opt.Size))
	fmt.Fprintf(out, "sha256: %s\n", opt.SHA256)
	return nil
}

// hashFile is the size and SHA-256 (hex) of the regular file fh (named
// name), read to the end with progress on stderr and then rewound.
func hashFile(fh *os.File, name string, stderr io.Writer) (int64, string, error) {
	fi, err := fh.Stat()
	if err != nil {
		return 0, "", err
	}
	if !fi.Mode().IsRegular() {
		return 0, "", fmt.Errorf("%s is not a regular file", name)
	}
	size := fi.Size()
	h := sha256.New()
	hp := stderrProgress(stderr, "sha256", size)
	n, err := io.Copy(h, hp.reader(fh))
	hp.finish()
	if err != nil {
		return 0, "", fmt.Errorf("read %s: %w", name, err)
	}
	if n != size {
		return 0, "", fmt.Errorf("%s changed while being read (%d bytes, expected %d)", name, n, size)
	}
	if _, err := fh.Seek(0, io.SeekStart); err != nil {
		return 0, "", err
	}
	return size, hex.EncodeToString(h.Sum(nil)), nil
}

func newGetCmd() *cobra.Command {
	var (
		f      artifactFlags
		output string
	)
	cmd := &cobra.Command{
		Use:   "get project/repo/path",
		Short: "Download a file from a generic repository",
		Long: `Download project/repo/path to stdout, or with -o to FILE (or into FILE when it is
a directory). The content's SHA-256 is checked against the one the agent
announces; on a mismatch the command fails and leaves no output file. FILE
appears complete or not at all: the download goes to a temporary file in the
same directory that is renamed over FILE once verified. On stdout the bytes
are already written when a mismatch is found; the exit status still says so.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			project, repo, path, err := parseArtifactRef(args[0], true)
			if err != nil {
				return err
			}
			ref := client.ArtifactRef{Project: project, Repo: repo, Path: path, Cluster: f.cluster}
			if err := get(cmd, f.client(), ref, output); err != nil {
				return fmt.Errorf("get %s: %w", args[0], err)
			}
			return nil
		},
	}
	f.bind(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "", `write to FILE instead of stdout ("-" for stdout)`)
	return cmd
}

// get downloads ref to output (stdout when "" or "-"), verified.
func get(cmd *cobra.Command, c *client.Client, ref client.ArtifactRef, output string) error {
	body, info, err := c.Download(cmd.Context(), ref)
	if err != nil {
		return err
	}
	defer body.Close()
	if info.SHA256 == "" {
		return errors.New("the agent sent no X-Checksum-Sha256, so the content cannot be verified")
	}
	p := stderrProgress(cmd.ErrOrStderr(), "download", info.Size)
	defer p.finish()
	src := p.reader(body)
	write := func(w io.Writer) error { return copyVerified(w, src, info.SHA256, info.Size) }
	if output == "" || output == "-" {
		return write(cmd.OutOrStdout())
	}
	return writeOutput(output, filepath.Base(filepath.FromSlash(ref.Path)), write)
}

// writeOutput writes what write produces to the file output, or into the
// directory output as name. A regular file is replaced atomically, keeping
// its permissions; a device or pipe (say /dev/null) is written straight to,
// since renaming a file over it would replace it.
func writeOutput(output, name string, write func(io.Writer) error) error {
	target := output
	fi, statErr := os.Stat(target)
	if statErr == nil && fi.IsDir() {
		target = filepath.Join(target, name)
		fi, statErr = os.Stat(target)
	}
	if statErr != nil {
		return writeFileAtomic(target, 0, write)
	}
	if fi.Mode().IsRegular() {
		return writeFileAtomic(target, fi.Mode().Perm(), write)
	}
	if fi.IsDir() {
		return fmt.Errorf("%s is a directory", target)
	}
	w, err := os.OpenFile(target, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	err = write(w)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return err
}

// errChecksum is a download whose content does not match its announced sha256.
var errChecksum = errors.New("checksum mismatch")

// copyVerified copies src to dst, then checks what was copied against the
// sha256 (hex) and, when size >= 0, the length the agent announced.
func copyVerified(dst io.Writer, src io.Reader, wantSHA256 string, size int64) error {
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(dst, h), src)
	if err != nil {
		return err
	}
	if size >= 0 && n != size {
		return fmt.Errorf("received %d bytes, the agent announced %d", n, size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, wantSHA256) {
		return fmt.Errorf("%w: received sha256 %s, the agent announced %s", errChecksum, got, wantSHA256)
	}
	return nil
}

// writeFileAtomic creates target with the content write produces: it writes a
// temporary file in target's directory, syncs it and renames it over target,
// so target is either untouched or complete. The temporary file is removed
// on any error. mode, when not 0, is the new file's permission bits
// (otherwise 0666 less the umask, as for any new file).
func writeFileAtomic(target string, mode os.FileMode, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	tmp, err := createTemp(dir, "."+base+".ferry-")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp); err != nil {
		return err
	}
	if mode != 0 {
		if err := tmp.Chmod(mode); err != nil {
			return err
		}
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return err
	}
	// Make the rename itself durable; not every platform can sync a directory.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// createTemp is os.CreateTemp with mode 0666 (less the umask) rather than
// 0600, so the renamed file gets the permissions a new file normally has.
func createTemp(dir, prefix string) (*os.File, error) {
	for range 100 {
		name := filepath.Join(dir, prefix+strconv.FormatUint(rand.Uint64(), 36)+".tmp")
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, fmt.Errorf("create a temporary file in %s: too many collisions", dir)
}

func newLsCmd() *cobra.Command {
	var (
		f         artifactFlags
		recursive bool
		nodes     bool
	)
	const pageSize = 500
	cmd := &cobra.Command{
		Use:   "ls project/repo[/path]",
		Short: "List a folder of a repository, or the images and tags of a DOCKER one",
		Long: `List the files and folders directly in a folder (the repository's root when no
path is given), or with -r every file below it. Folders end with "/".

A DOCKER repository lists its images (under path, when given) with their tags,
the digest and size of each tag's manifest; --nodes lists its nodes instead.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			project, repo, path, err := parseArtifactRef(args[0], false)
			if err != nil {
				return err
			}
			dir := "/" + path
			ref := client.ArtifactRef{Project: project, Repo: repo, Path: dir, Cluster: f.cluster}
			c := f.client()
			if !nodes {
				info, err := c.Repo(cmd.Context(), ref)
				if err != nil {
					return fmt.Errorf("ls %s: %w", args[0], err)
				}
				if info.Type == "DOCKER" {
					return listImages(cmd, c, ref, project+"/"+repo)
				}
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tSIZE\tMODIFIED\tSHA256")
			for page := 1; ; page++ {
				res, err := c.List(cmd.Context(), ref, client.ListQuery{Recursive: recursive, PageNumber: page, PageSize: pageSize})
				if err != nil {
					return fmt.Errorf("ls %s: %w", args[0], err)
				}
				for _, n := range res.Records {
					fmt.Fprintln(w, lsRow(n, dir, recursive))
				}
				if len(res.Records) == 0 || int64(page) >= res.TotalPages {
					break
				}
			}
			return w.Flush()
		},
	}
	f.bind(cmd)
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", false, "list every file below the folder")
	cmd.Flags().BoolVar(&nodes, "nodes", false, "list a DOCKER repository's nodes, not its images")
	return cmd
}

// listImages lists the tags of a DOCKER repository's images below
// ref.Path: each tag node holds its manifest, so its sha256 is the digest.
func listImages(cmd *cobra.Command, c *client.Client, ref client.ArtifactRef, prefix string) error {
	type row struct{ image, tag, digest, size, modified string }
	var rows []row
	for page := 1; ; page++ {
		res, err := c.List(cmd.Context(), ref, client.ListQuery{Recursive: true, PageNumber: page, PageSize: 500})
		if err != nil {
			return fmt.Errorf("ls %s: %w", prefix, err)
		}
		for _, n := range res.Records {
			if node, ok := oci.ParseNodePath(n.FullPath); ok && node.Kind == oci.NodeTag {
				rows = append(rows, row{strings.TrimSuffix(prefix+"/"+node.Image, "/"), node.Tag, "sha256:" + n.SHA256,
					formatSize(n.Size), n.LastModifiedDate.Local().Format("2006-01-02 15:04")})
			}
		}
		if len(res.Records) == 0 || int64(page) >= res.TotalPages {
			break
		}
	}
	slices.SortFunc(rows, func(a, b row) int { return cmp.Or(strings.Compare(a.image, b.image), strings.Compare(a.tag, b.tag)) })
	w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "IMAGE\tTAG\tDIGEST\tSIZE\tMODIFIED")
	for _, r := range rows {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", r.image, r.tag, r.digest, r.size, r.modified)
	}
	return w.Flush()
}

// lsRow is one tab-separated line of ferry ls. Recursive listings name files
// by their path below dir, others by their name.
func lsRow(n client.Node, dir string, recursive bool) string {
	name := n.Name
	if recursive || name == "" {
		rel := "/" + strings.TrimPrefix(n.FullPath, "/")
		if prefix := strings.TrimSuffix(dir, "/") + "/"; strings.HasPrefix(rel, prefix) {
			rel = rel[len(prefix):]
		} else {
			rel = strings.TrimPrefix(rel, "/")
		}
		name = rel
	}
	sizeText, mod, short := "-", "-", "-"
	if n.Folder {
		name += "/"
	} else {
		sizeText = formatSize(n.Size)
		if len(n.SHA256) > 12 {
			short = n.SHA256[:12]
		} else if n.SHA256 != "" {
			short = n.SHA256
		}
	}
	if !n.LastModifiedDate.IsZero() {
		mod = n.LastModifiedDate.Local().Format("2006-01-02 15:04")
	}
	return name + "\t" + sizeText + "\t" + mod + "\t" + short
}
