package store

import (
	"context"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// CreateProject implements Store.
func (s *Local) CreateProject(_ context.Context, p Project) (Project, error) {
	if err := ValidateProjectName(p.Name); err != nil {
		return Project{}, err
	}
	p.CreatedAt = now()
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketProjects)
		if b.Get([]byte(p.Name)) != nil {
			return fmt.Errorf("project %q: %w", p.Name, ErrExists)
		}
		return putJSON(b, []byte(p.Name), p)
	})
	return p, err
}

// Project implements Store.
func (s *Local) Project(_ context.Context, name string) (Project, error) {
	var p Project
	err := s.db.View(func(tx *bolt.Tx) error {
		return getJSON(tx.Bucket(bucketProjects), []byte(name), &p, "project "+quote(name))
	})
	return p, err
}

// Projects implements Store.
func (s *Local) Projects(context.Context) ([]Project, error) {
	out := []Project{}
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		out, err = scanJSON(out, tx.Bucket(bucketProjects), nil, nil, -1)
		return err
	})
	return out, err
}

// DeleteProject implements Store.
func (s *Local) DeleteProject(_ context.Context, name string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketProjects)
		if b.Get([]byte(name)) == nil {
			return fmt.Errorf("project %q: %w", name, ErrNotFound)
		}
		c := tx.Bucket(bucketRepos).Cursor()
		prefix := []byte(name + "/")
		if k, _ := c.Seek(prefix); k != nil && strings.HasPrefix(string(k), string(prefix)) {
			return fmt.Errorf("project %q has repositories: %w", name, ErrNotEmpty)
		}
		return b.Delete([]byte(name))
	})
}

// CreateRepo implements Store.
func (s *Local) CreateRepo(_ context.Context, r Repo) (Repo, error) {
	if err := ValidateRepoName(r.Name); err != nil {
		return Repo{}, err
	}
	if !r.Type.Valid() {
		return Repo{}, fmt.Errorf("%w: repository type %q is not one of %v", ErrInvalid, r.Type, RepoTypes)
	}
	r.CreatedAt = now()
	err := s.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketProjects).Get([]byte(r.Project)) == nil {
			return fmt.Errorf("project %q: %w", r.Project, ErrNotFound)
		}
		repos := tx.Bucket(bucketRepos)
		if repos.Get(repoKey(r.Project, r.Name)) != nil {
			return fmt.Errorf("repository %s/%s: %w", r.Project, r.Name, ErrExists)
		}
		rb, err := tx.CreateBucket(repoBucketName(r.Project, r.Name))
		if err != nil {
			return err
		}
		for _, b := range [][]byte{bucketNodes, bucketVersions, bucketPathVer, bucketChanges} {
			if _, err := rb.CreateBucket(b); err != nil {
				return err
			}
		}
		if last := getUint(tx.Bucket(bucketLastSeq), repoKey(r.Project, r.Name)); last > 0 {
			if err := rb.Bucket(bucketChanges).SetSequence(last); err != nil {
				return err
			}
		}
		return putJSON(repos, repoKey(r.Project, r.Name), r)
	})
	return r, err
}

// Repos implements Store.
func (s *Local) Repos(_ context.Context, project string) ([]Repo, error) {
	out := []Repo{}
	err := s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketProjects).Get([]byte(project)) == nil {
			return fmt.Errorf("project %q: %w", project, ErrNotFound)
		}
		prefix := []byte(project + "/")
		var err error
		out, err = scanJSON(out, tx.Bucket(bucketRepos), prefix, prefix, -1)
		return err
	})
	return out, err
}

// Repository implements Store.
func (s *Local) Repository(_ context.Context, project, name string) (Repository, error) {
	var r Repo
	err := s.db.View(func(tx *bolt.Tx) error {
		return getJSON(tx.Bucket(bucketRepos), repoKey(project, name), &r, "repository "+quote(project+"/"+name))
	})
	if err != nil {
		return nil, err
	}
	return &localRepo{s: s, info: r, bucket: repoBucketName(project, name)}, nil
}

// DeleteRepo implements Store: the repository goes with all it holds.
func (s *Local) DeleteRepo(_ context.Context, project, name string) error {
	r := &localRepo{s: s, info: Repo{Project: project, Name: name}, bucket: repoBucketName(project, name)}
	return r.commit(nil, func(tx *bolt.Tx, rb *bolt.Bucket) ([]string, error) {
		// One past the last entry: the deletion itself moves the position,
		// so a repository deleted and created again never looks unchanged.
		if err := putUint(tx.Bucket(bucketLastSeq), repoKey(project, name), rb.Bucket(bucketChanges).Sequence()+1); err != nil {
			return nil, err
		}
		gone, err := s.unrefAll(tx, rb)
		if err != nil {
			return nil, err
		}
		if err := tx.DeleteBucket(r.bucket); err != nil {
			return nil, err
		}
		return gone, tx.Bucket(bucketRepos).Delete(repoKey(project, name))
	})
}

// unrefAll drops the references of every node of a repository and returns
// the contents that lost their last one.
func (s *Local) unrefAll(tx *bolt.Tx, rb *bolt.Bucket) (gone []string, err error) {
	err = rb.Bucket(bucketNodes).ForEach(func(_, v []byte) error {
		var n Node
		if err := decodeNode(v, &n); err != nil {
			return err
		}
		if last, err := s.unref(tx, n.SHA256); err != nil {
			return err
		} else if last {
			gone = append(gone, n.SHA256)
		}
		return nil
	})
	return gone, err
}
