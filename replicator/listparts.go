package replicator

import (
	"context"
	"errors"
	"iter"

	"github.com/ferrysync/ferry/store"
)

// A REPOSITORY selection of a repository that is not DOCKER is listed in
// parts of at most listPart objects, each walked from the last path of the
// one before (store WalkAfter): the source holds one part per target, not
// the whole listing. The first part is listed with the selection, shared by
// every target; each target walks the others for itself, when it comes to
// them. A part is a phase of its own (planned, sent, linked), so that what
// a part's contents need is done before the next is listed. DOCKER
// selections are listed whole: their commit order spans the repository.

// defaultListPart is Config.ListPart's default: 50,000 objects, ~10 MB.
const defaultListPart = 50_000

var errPartFull = errors.New("listing part full")

// listPartAfter lists up to max files under the selection's root after the
// path after; more says files are left.
func listPartAfter(ctx context.Context, repo store.Repository, after string, max int) (objs []object, more bool, err error) {
	err = repo.WalkAfter(ctx, "/", after, func(n store.Node) error {
		if n.Folder {
			return nil
		}
		if len(objs) == max {
			more = true
			return errPartFull
		}
		objs = append(objs, objectOf(n))
		return nil
	})
	if errors.Is(err, errPartFull) {
		err = nil
	}
	return objs, more, err
}

// listFirstPart lists the selection's first part and, when more follow,
// counts the whole listing.
func (sel *selection) listFirstPart(ctx context.Context) error {
	objs, more, err := listPartAfter(ctx, sel.repo, "", sel.listPart)
	if err != nil {
		return err
	}
	sel.objects, sel.more = objs, more
	if !more {
		return nil
	}
	return sel.repo.Walk(ctx, "/", func(n store.Node) error {
		if !n.Folder {
			sel.files++
			sel.bytes += n.Size
		}
		return nil
	})
}

// size is how many objects and bytes the selection holds.
func (sel *selection) size() (objects, bytes int64) {
	if sel.more {
		return sel.files, sel.bytes
	}
	for _, o := range sel.objects {
		bytes += o.Size
	}
	return int64(len(sel.objects)), bytes
}

// parts yields the selection's objects a part at a time, in commit order:
// the first part's phases, then every further part as it is listed.
func (sel *selection) parts(ctx context.Context) iter.Seq2[[]object, error] {
	return func(yield func([]object, error) bool) {
		for objs := range phases(sel.objects) {
			if !yield(objs, nil) {
				return
			}
		}
		for more, after := sel.more, lastPath(sel.objects); more; {
			var objs []object
			var err error
			objs, more, err = listPartAfter(ctx, sel.repo, after, sel.listPart)
			if err == nil {
				nameVersions(objs, sel.versions)
			}
			if !yield(objs, err) || err != nil {
				return
			}
			after = lastPath(objs)
		}
	}
}

func lastPath(objs []object) string {
	if len(objs) == 0 {
		return ""
	}
	return objs[len(objs)-1].Path
}
