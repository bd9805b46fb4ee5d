package store

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

func versionKey(key, version string) []byte { return []byte(key + "\x00" + version) }

func getVersion(rb *bolt.Bucket, key, version string) (PackageVersion, bool, error) {
	raw := rb.Bucket(bucketVersions).Get(versionKey(key, version))
	if raw == nil {
		return PackageVersion{}, false, nil
	}
	var v PackageVersion
	err := json.Unmarshal(raw, &v)
	return v, true, err
}

// putVersion stores v, keeps the path index in step, and logs the change.
func putVersion(rb *bolt.Bucket, v PackageVersion, old *PackageVersion, by string) error {
	kind := VersionCreated
	if old != nil {
		kind = VersionUpdated
		for _, p := range old.Paths {
			if err := rb.Bucket(bucketPathVer).Delete([]byte(p)); err != nil {
				return err
			}
		}
	}
	for _, p := range v.Paths {
		if err := rb.Bucket(bucketPathVer).Put([]byte(p), versionKey(v.PackageKey, v.Version)); err != nil {
			return err
		}
	}
	seq, err := appendChangeSeq(rb, Change{Kind: kind, Time: v.ModifiedAt, PackageKey: v.PackageKey, Version: v.Version, By: by})
	if err != nil {
		return err
	}
	if old == nil {
		v.CreatedSeq = seq
	} else {
		v.CreatedSeq = old.CreatedSeq
	}
	return putJSON(rb.Bucket(bucketVersions), versionKey(v.PackageKey, v.Version), v)
}

// registerPackage adds a file written at p to the package version its path
// names in the repository type's layout (see PackageOfNode), in the write's
// own transaction: a DOCKER tag and its version appear and go together. A
// version made by hand that owns the path keeps it.
func (r *localRepo) registerPackage(rb *bolt.Bucket, p, by string, t time.Time) error {
	key, version, ok := PackageOfNode(r.info, p)
	if !ok {
		return nil
	}
	if owner := rb.Bucket(bucketPathVer).Get([]byte(p)); owner != nil && string(owner) != string(versionKey(key, version)) {
		return nil
	}
	return r.addPathToVersion(rb, key, version, p, by, t)
}

func (r *localRepo) addPathToVersion(rb *bolt.Bucket, key, version, path, by string, t time.Time) error {
	v, exists, err := getVersion(rb, key, version)
	if err != nil {
		return err
	}
	var old *PackageVersion
	if exists {
		if slices.Contains(v.Paths, path) {
			return nil
		}
		prev := v
		prev.Paths = slices.Clone(v.Paths)
		old = &prev
	} else {
		v = PackageVersion{PackageKey: key, Version: version, CreatedBy: by, CreatedAt: t}
	}
	v.Paths = append(v.Paths, path)
	slices.Sort(v.Paths)
	v.ModifiedBy, v.ModifiedAt = by, t
	return putVersion(rb, v, old, by)
}

// removePathFromVersion drops a deleted file from its version; a version left
// without files is deleted.
func (r *localRepo) removePathFromVersion(rb *bolt.Bucket, path, by string, t time.Time) error {
	ref := rb.Bucket(bucketPathVer).Get([]byte(path))
	if ref == nil {
		return nil
	}
	key, version, _ := strings.Cut(string(ref), "\x00")
	v, exists, err := getVersion(rb, key, version)
	if err != nil || !exists {
		return err
	}
	if len(v.Paths) == 1 {
		return deleteVersion(rb, v, by, t)
	}
	old := v
	old.Paths = slices.Clone(v.Paths)
	v.Paths = slices.DeleteFunc(v.Paths, func(p string) bool { return p == path })
	v.ModifiedBy, v.ModifiedAt = by, t
	return putVersion(rb, v, &old, by)
}

func deleteVersion(rb *bolt.Bucket, v PackageVersion, by string, t time.Time) error {
	for _, p := range v.Paths {
		if err := rb.Bucket(bucketPathVer).Delete([]byte(p)); err != nil {
			return err
		}
	}
	if err := rb.Bucket(bucketVersions).Delete(versionKey(v.PackageKey, v.Version)); err != nil {
		return err
	}
	return appendChange(rb, Change{Kind: VersionDeleted, Time: t, PackageKey: v.PackageKey, Version: v.Version, By: by})
}

// PutVersion implements Packages: it creates or replaces a version. Every
// path must be a file in this repository.
func (r *localRepo) PutVersion(_ context.Context, v PackageVersion) (PackageVersion, error) {
	paths, err := checkVersion(v)
	if err != nil {
		return PackageVersion{}, err
	}
	v.Paths = paths
	err = r.change(func(rb *bolt.Bucket) error {
		if err := r.checkVersionPaths(rb, v); err != nil {
			return err
		}
		old, exists, err := getVersion(rb, v.PackageKey, v.Version)
		if err != nil {
			return err
		}
		t := now()
		v.ModifiedAt = t
		if exists {
			v.CreatedBy, v.CreatedAt = old.CreatedBy, old.CreatedAt
			return putVersion(rb, v, &old, v.ModifiedBy)
		}
		v.CreatedAt = t
		if v.CreatedBy == "" {
			v.CreatedBy = v.ModifiedBy
		}
		return putVersion(rb, v, nil, v.ModifiedBy)
	})
	return v, err
}

// checkVersion checks a version to put and returns its paths normalised,
// sorted and without repeats.
func checkVersion(v PackageVersion) ([]string, error) {
	if err := validatePackageKey(v.PackageKey); err != nil {
		return nil, err
	}
	if v.Version == "" || len(v.Version) > 128 || strings.ContainsAny(v.Version, "\x00/\\") {
		return nil, fmt.Errorf("%w: version %q must be 1-128 characters without '/', '\\' or NUL", ErrInvalid, v.Version)
	}
	if len(v.Paths) == 0 {
		return nil, fmt.Errorf("%w: a version needs at least one path", ErrInvalid)
	}
	if err := validateMetadata(v.Metadata); err != nil {
		return nil, err
	}
	paths := make([]string, 0, len(v.Paths))
	for _, p := range v.Paths {
		np, err := NormalizeFilePath(p)
		if err != nil {
			return nil, err
		}
		paths = append(paths, np)
	}
	slices.Sort(paths)
	return slices.Compact(paths), nil
}

// checkVersionPaths refuses a version whose paths are not all files of the
// repository, or of which a path belongs to another version.
func (r *localRepo) checkVersionPaths(rb *bolt.Bucket, v PackageVersion) error {
	for _, p := range v.Paths {
		if rb.Bucket(bucketNodes).Get([]byte(p)) == nil {
			return fmt.Errorf("%w: path %s of version %s is not a file in %s/%s", ErrInvalid, p, v.Version, r.info.Project, r.info.Name)
		}
		if owner := rb.Bucket(bucketPathVer).Get([]byte(p)); owner != nil && string(owner) != string(versionKey(v.PackageKey, v.Version)) {
			return fmt.Errorf("%w: path %s already belongs to %s", ErrExists, p, strings.Replace(string(owner), "\x00", " ", 1))
		}
	}
	return nil
}

func validatePackageKey(key string) error {
	scheme, rest, ok := strings.Cut(key, "://")
	if !ok || scheme == "" || rest == "" || len(key) > 512 || strings.ContainsAny(key, "\x00\\") || strings.ToLower(scheme) != scheme {
		return fmt.Errorf("%w: packageKey %q must look like gav://group:artifact or npm://name", ErrInvalid, key)
	}
	return nil
}

// Version implements Packages.
func (r *localRepo) Version(_ context.Context, key, version string) (PackageVersion, error) {
	var v PackageVersion
	err := r.view(func(_ *bolt.Tx, rb *bolt.Bucket) error {
		var ok bool
		var err error
		if v, ok, err = getVersion(rb, key, version); err == nil && !ok {
			err = fmt.Errorf("%s %s: %w", key, version, ErrNotFound)
		}
		return err
	})
	return v, err
}

// Versions implements Packages: newest first.
func (r *localRepo) Versions(_ context.Context, key string, page PageRequest) (Page[PackageVersion], error) {
	var all []PackageVersion
	err := r.view(func(_ *bolt.Tx, rb *bolt.Bucket) error {
		prefix := []byte(key + "\x00")
		var err error
		if all, err = scanJSON(all, rb.Bucket(bucketVersions), prefix, prefix, -1); err != nil {
			return err
		}
		if len(all) == 0 {
			return fmt.Errorf("package %s: %w", key, ErrNotFound)
		}
		return nil
	})
	// Newest first, by creation order: timestamps of quick successive writes tie.
	slices.SortFunc(all, func(a, b PackageVersion) int { return cmp.Compare(b.CreatedSeq, a.CreatedSeq) })
	return Paginate(all, page), err
}

// Packages implements Packages: packages whose key starts with prefix.
func (r *localRepo) Packages(_ context.Context, prefix string, page PageRequest) (Page[Package], error) {
	byKey := map[string]*Package{}
	newest := map[string]uint64{} // creation sequence of each package's latest version
	var order []string
	err := r.view(func(_ *bolt.Tx, rb *bolt.Bucket) error {
		c := rb.Bucket(bucketVersions).Cursor()
		for k, raw := c.Seek([]byte(prefix)); k != nil && strings.HasPrefix(string(k), prefix); k, raw = c.Next() {
			key, _, _ := strings.Cut(string(k), "\x00")
			var v PackageVersion
			if err := json.Unmarshal(raw, &v); err != nil {
				return err
			}
			p, ok := byKey[key]
			if !ok {
				p = &Package{Key: key, Name: packageName(key)}
				byKey[key] = p
				order = append(order, key)
			}
			p.Versions++
			if p.LatestVersion == "" || v.CreatedSeq > newest[key] {
				p.LatestVersion, newest[key] = v.Version, v.CreatedSeq
			}
			if v.ModifiedAt.After(p.ModifiedAt) {
				p.ModifiedAt = v.ModifiedAt
			}
		}
		return nil
	})
	all := make([]Package, 0, len(order))
	for _, k := range order {
		all = append(all, *byKey[k])
	}
	return Paginate(all, page), err
}

// packageName is the last part of a key: gav://g:a -> a, npm://@s/n -> @s/n.
func packageName(key string) string {
	_, rest, _ := strings.Cut(key, "://")
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		return rest[i+1:]
	}
	return rest
}

// DeleteVersion implements Packages. It deletes the version record; the
// files stay (delete them by path).
func (r *localRepo) DeleteVersion(_ context.Context, key, version, by string) error {
	return r.change(func(rb *bolt.Bucket) error {
		v, ok, err := getVersion(rb, key, version)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%s %s: %w", key, version, ErrNotFound)
		}
		return deleteVersion(rb, v, by, now())
	})
}
