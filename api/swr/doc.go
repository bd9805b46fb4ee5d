// Package swr serves Huawei Cloud SWR's shared-edition management API
// (/v2/manage/..., as ../shared/contracts/swr.md and the seed
// ../shared/seeds/swr-image-sync-task.txt describe it) over the agent's
// store and its OCI registry.
//
// It owns SWR's wire and names: an organization (namespace) is a Ferry
// project of this agent's store; a repository "a/b" (sent as "a$b", or
// with literal slashes) is the image at OCI name "<namespace>/a/b" of the
// registry; the filter syntax (key::value|...), Content-Range paging, the
// error body [{"errorCode","errorMessage","detail"}] with SVCSTG.SWR codes
// and its 401/403 answers.
//
// It must not decide what an image, a tag or a project is (package
// registry and the store do), nor read the store's nodes: it reads through
// the small interfaces of Services and only translates. It imports api,
// never the reverse; the agent mounts it with Register right after api.New.
package swr
