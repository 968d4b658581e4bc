// Package docs holds the project's user documentation. Reports that judge
// against a document ship a copy of it beside themselves, embedded here, so
// a report handed on carries the text it cites.
package docs

import _ "embed"

// ConformanceChecklist is conformance-checklist.md, the checklist that
// `mynahil conformance` judges a reader against.
//
//go:embed conformance-checklist.md
var ConformanceChecklist []byte
