package api

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/store"
	"github.com/julienschmidt/httprouter"
)

// Native task API, used by the CLI; api/bkrepo serves the same tasks in
// bk-repo's dialect.

func (s *Server) taskRoutes() {
	r, w := fsm.PolicyRead, fsm.PolicyWrite
	s.Handle(http.MethodPost, "/v1/tasks", w, nil, s.createTask)
	s.Handle(http.MethodGet, "/v1/tasks", r, nil, s.read(s.listTasks))
	s.Handle(http.MethodGet, "/v1/tasks/:key", r, nil, s.read(s.getTask))
	s.Handle(http.MethodPut, "/v1/tasks/:key", w, nil, s.updateTask)
	s.Handle(http.MethodDelete, "/v1/tasks/:key", w, nil, s.deleteTask)
	s.Handle(http.MethodPost, "/v1/tasks/:key/enable", w, nil, s.toggleTask(true))
	s.Handle(http.MethodPost, "/v1/tasks/:key/disable", w, nil, s.toggleTask(false))
	s.Handle(http.MethodPost, "/v1/tasks/:key/execute", w, nil, s.executeTask)
	s.Handle(http.MethodPost, "/v1/tasks/:key/copy", w, nil, s.copyTask)
	s.Handle(http.MethodGet, "/v1/tasks/:key/runs", r, nil, s.read(s.taskRuns))
}

func (s *Server) createTask(w http.ResponseWriter, r *http.Request, _ httprouter.Params) {
	req := NewTaskRequest()
	if !decodeBody(w, r, &req) {
		return
	}
	v, err := s.tasks.CreateTask(r.Context(), req)
	s.answerWrite(w, http.StatusCreated, v, err)
}

func (s *Server) updateTask(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
	req := NewTaskRequest()
	if !decodeBody(w, r, &req) {
		return
	}
	v, err := s.tasks.UpdateTask(r.Context(), ps.ByName("key"), req, UpdateOptions{})
	s.answerWrite(w, http.StatusOK, v, err)
}

func (s *Server) deleteTask(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
	if err := s.tasks.DeleteTask(r.Context(), ps.ByName("key")); err != nil {
		writeServiceError(w, err)
		return
	}
	s.ReadHeaders(w)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) toggleTask(enabled bool) httprouter.Handle {
	return func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
		v, err := s.tasks.ToggleTask(r.Context(), ps.ByName("key"), &enabled)
		s.answerWrite(w, http.StatusOK, v, err)
	}
}

func (s *Server) executeTask(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
	run, err := s.tasks.ExecuteTask(r.Context(), ps.ByName("key"))
	s.answerWrite(w, http.StatusAccepted, run.Redacted(), err)
}

func (s *Server) copyTask(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
	var body struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	v, err := s.tasks.CopyTask(r.Context(), ps.ByName("key"), body.Name, body.Description)
	s.answerWrite(w, http.StatusCreated, v, err)
}

// answerWrite answers a write with the read headers of the state it left.
func (s *Server) answerWrite(w http.ResponseWriter, status int, v any, err error) {
	if err != nil {
		writeServiceError(w, err)
		return
	}
	s.ReadHeaders(w)
	writeJSON(w, status, v)
}

func (s *Server) getTask(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
	v, ok := s.taskFor(w, r, ps.ByName("key"))
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// taskFor is the task the request names, or false once it answered 404 or
// 403 (the caller's credential does not reach its project).
func (s *Server) taskFor(w http.ResponseWriter, r *http.Request, key string) (TaskView, bool) {
	v, ok := s.tasks.Task(key)
	if !ok {
		writeError(w, http.StatusNotFound, "task %s not found", key)
		return TaskView{}, false
	}
	if err := CheckScope(r.Context(), v.ProjectID); err != nil {
		writeServiceError(w, err)
		return TaskView{}, false
	}
	return v, true
}

// ParseTaskFilter reads the list filters both dialects share; a bad one is
// an fsm field error, which each dialect words its own way.
func ParseTaskFilter(q url.Values, project string) (TaskFilter, error) {
	f := TaskFilter{ProjectID: project, NamePrefix: q.Get("name"), LastExecutionStatus: q.Get("lastExecutionStatus"), SortType: q.Get("sortType")}
	switch d := q.Get("sortDirection"); d {
	case "", "DESC":
	case "ASC":
		f.Ascending = true
	default:
		return f, fsm.FieldError("sortDirection", "%q is not ASC or DESC", d)
	}
	if e := q.Get("enabled"); e != "" {
		b, err := strconv.ParseBool(e)
		if err != nil {
			return f, fsm.FieldError("enabled", "%q is not true or false", e)
		}
		f.Enabled = &b
	}
	switch f.SortType {
	case "", "CREATED_TIME", "LAST_EXECUTION_TIME", "NEXT_EXECUTION_TIME":
	default:
		return f, fsm.FieldError("sortType", "%q is not CREATED_TIME, LAST_EXECUTION_TIME or NEXT_EXECUTION_TIME", f.SortType)
	}
	switch f.LastExecutionStatus {
	case "", "RUNNING", "SUCCESS", "FAILED":
	default:
		return f, fsm.FieldError("lastExecutionStatus", "%q is not RUNNING, SUCCESS or FAILED", f.LastExecutionStatus)
	}
	return f, nil
}

func (s *Server) listTasks(w http.ResponseWriter, r *http.Request, _ httprouter.Params) {
	f, err := ParseTaskFilter(r.URL.Query(), r.URL.Query().Get("projectId"))
	if err != nil {
		writeServiceError(w, err)
		return
	}
	f.Projects = ScopeOf(r.Context())
	page, ok := pageOf(w, r.URL.Query().Get("pageNumber"), r.URL.Query().Get("pageSize"))
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, store.Paginate(s.tasks.ListTasks(f), page))
}

func (s *Server) taskRuns(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
	if _, ok := s.taskFor(w, r, ps.ByName("key")); !ok {
		return
	}
	page, ok := pageOf(w, r.URL.Query().Get("pageNumber"), r.URL.Query().Get("pageSize"))
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, store.Paginate(s.runs.Runs(fsm.RunFilter{TaskKey: ps.ByName("key")}), page))
}
