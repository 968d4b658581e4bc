package cli

import (
	"runtime/debug"
)

// BuildInfo is what a binary knows about its own build.
type BuildInfo struct {
	Module   string `json:"module"`
	Version  string `json:"version"`            // module version, "(devel)" from a checkout
	Commit   string `json:"commit,omitempty"`   // vcs.revision
	Time     string `json:"time,omitempty"`     // vcs.time, the commit's time
	Modified bool   `json:"modified,omitempty"` // built from a work tree with changes
	Go       string `json:"go"`
}

// commit is the fallback revision for builds without version-control
// stamping (-buildvcs=false): make build sets it with
// -ldflags "-X github.com/mynahil/mynahil/cli.commit=…".
var commit string

// ReadBuildInfo reads the module version and the version-control stamp
// that 'go build' embeds (runtime/debug.ReadBuildInfo).
func ReadBuildInfo() BuildInfo {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return BuildInfo{Version: "unknown", Commit: commit}
	}
	return fromBuildInfo(bi)
}

func fromBuildInfo(bi *debug.BuildInfo) BuildInfo {
	out := BuildInfo{Module: bi.Main.Path, Version: bi.Main.Version, Go: bi.GoVersion, Commit: commit}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			out.Commit = s.Value
		case "vcs.time":
			out.Time = s.Value
		case "vcs.modified":
			out.Modified = s.Value == "true"
		}
	}
	return out
}

// String is the one-line form: "(devel) commit 0123abcd (2026-11-28T02:00:00Z, modified) go1.26".
func (b BuildInfo) String() string {
	s := b.Version
	if b.Commit != "" {
		s += " commit " + b.Commit
		if b.Time != "" || b.Modified {
			s += " ("
			if b.Time != "" {
				s += b.Time
			}
			if b.Modified {
				if b.Time != "" {
					s += ", "
				}
				s += "modified"
			}
			s += ")"
		}
	}
	return s + " " + b.Go
}
