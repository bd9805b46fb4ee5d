package pulp

import (
	"encoding/json"
	"net/http"
	"slices"

	"github.com/julienschmidt/httprouter"
)

// searchSegment is /tasks/search/'s last segment. httprouter v1.3.0 cannot
// have a static /tasks/search/ beside the wildcard /tasks/:task/ of the same
// method, so GET (and DELETE, which Pulp's search view does not take) of
// /tasks/:task/ look for it first; POST has no wildcard and is its own
// route. A task id is a UUID, never "search".
const searchSegment = "search"

// searchTasks is POST /tasks/search/ {"criteria": {...}} (TaskSearchView):
// 200, the region's tasks the criteria find. No criteria, or null, is
// PLP0016 criteria; one that is not an object PLP0015 criteria.
func (d *dialect) searchTasks(r *http.Request, _ httprouter.Params) (int, any, error) {
	body, e := readObject(r, false)
	if e != nil {
		return 0, nil, e
	}
	raw, ok := body["criteria"]
	if !ok || isNull(raw) {
		return 0, nil, missingValue("criteria")
	}
	var doc map[string]json.RawMessage
	if json.Unmarshal(raw, &doc) != nil || doc == nil {
		return 0, nil, invalidValue("criteria")
	}
	return d.findTasks(doc)
}

// searchTasksQuery is GET /tasks/search/?filters=<json>&sort=<json>&limit=
// &skip=&field=a&field=b: the same search, its criteria in the query.
func (d *dialect) searchTasksQuery(r *http.Request, _ httprouter.Params) (int, any, error) {
	doc, e := queryCriteria(r.URL.Query())
	if e != nil {
		return 0, nil, e
	}
	return d.findTasks(doc)
}

func (d *dialect) findTasks(doc map[string]json.RawMessage) (int, any, error) {
	c, e := readCriteria(doc)
	if e != nil {
		return 0, nil, e
	}
	views, err := asDocuments(d.taskViews(nil))
	if err != nil {
		return 0, nil, err
	}
	// Pulp always adds id to the fields asked (its _id comes with it), and
	// the serializer links a task that has its task_id.
	keep := []string{"id", "_id"}
	if slices.Contains(c.fields, "task_id") {
		keep = append(keep, "_href")
	}
	return http.StatusOK, c.apply(views, keep...), nil
}

// asDocuments are views as JSON reads them back, the values a filter
// compares (a time is its string, a number a float64).
func asDocuments(views []map[string]any) ([]map[string]any, error) {
	raw, err := json.Marshal(views)
	if err != nil {
		return nil, err
	}
	var docs []map[string]any
	return docs, json.Unmarshal(raw, &docs)
}
