package pcsc_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// theLibrary is the PC/SC binding this package replaced: its
// GetStatusChange stops a process in which two goroutines wait (package
// doc).
const theLibrary = "github.com/ebfe/scard"

// linksPCSC matches a cgo directive or include that reaches libpcsclite.
var linksPCSC = regexp.MustCompile(`(?m)^\s*//\s*#(cgo\b.*\blibpcsclite\b|include\s*[<"](PCSC/)?winscard\.h[>"])`)

// TestOneBinding: package pcsc is the module's one PC/SC binding. No file
// of the module, tests included, imports the library it replaced, and no
// other package binds libpcsclite through cgo of its own.
func TestOneBinding(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	here, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && path != root && (d.Name()[0] == '.' || d.Name() == "testdata"):
			return filepath.SkipDir
		case d.IsDir() || filepath.Ext(path) != ".go":
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, path, src, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		rel, _ := filepath.Rel(root, path)
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == theLibrary {
				t.Errorf("%s imports %s; use package pcsc (its doc says why)", rel, theLibrary)
			}
		}
		if filepath.Dir(path) != here && linksPCSC.Match(src) {
			t.Errorf("%s binds libpcsclite itself; add the call to package pcsc", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 100 {
		t.Fatalf("only %d files checked: the module was not found", checked)
	}
}
