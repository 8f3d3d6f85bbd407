package lua

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	glua "github.com/yuin/gopher-lua"
)

// LibraryFolder is the folder beside a workflow or script whose NAME.lua
// files require("NAME") loads.
const LibraryFolder = "lua"

// maxLibrarySize bounds a library file, as file() bounds what it reads.
const maxLibrarySize = 16 << 20

// libraryName is what require accepts for a library: Lua names joined by
// dots, a dot being a sub-folder (require("text.slug") reads
// text/slug.lua), so that a name can never leave its folder.
var libraryName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)

// Libraries finds and compiles the Lua libraries that require(name) loads:
// name.lua in the first of its folders that has it. Each folder is opened
// as an os.Root, so that a library cannot be read from outside it, not even
// through a symbolic link. A library is read and compiled once and cached;
// it runs once in each script run that requires it. A Libraries is safe
// for concurrent use; the zero value and nil have no libraries.
type Libraries struct {
	// FunctionTimeout bounds each call of a library function from HCL;
	// 0 means DefaultFunctionTimeout.
	FunctionTimeout time.Duration
	// FunctionMemory is the memory guard's allowance for each call, as
	// Options.MaxMemory; 0 means DefaultMaxMemory.
	FunctionMemory int64

	folders []libraryFolder

	mu       sync.Mutex
	compiled map[string]*library // by require name; nil entries are misses
	sources  map[string][]byte   // by file, also of a library that does not compile

	funcsMu   sync.Mutex // held while the functions are found
	funcsDone bool       // funcs and funcsErr hold the answer for good
	funcs     map[string]*Function
	funcsErr  error
}

// libraryFolder is where libraries are looked for: sub (a folder, "." for
// the root itself) inside root, the folder that confines them. Display is
// how positions name the folder ("examples/lua").
type libraryFolder struct {
	root, sub, display string
}

type library struct {
	name  string // the require name
	file  string // how positions name the file ("examples/lua/text.lua")
	proto *glua.FunctionProto
}

// NewLibraries returns the libraries of a workflow or script in dir: those
// in its lua folder (confined to dir), then those in each of extra (each
// confined to itself). A folder that does not exist holds no library.
func NewLibraries(dir string, extra ...string) *Libraries {
	if dir == "" {
		dir = "."
	}
	l := &Libraries{compiled: map[string]*library{}, sources: map[string][]byte{}}
	l.folders = append(l.folders, libraryFolder{root: dir, sub: LibraryFolder, display: filepath.Join(dir, LibraryFolder)})
	for _, e := range extra {
		l.folders = append(l.folders, libraryFolder{root: e, sub: ".", display: e})
	}
	return l
}

// load returns the compiled library name, nil when no folder has it.
func (l *Libraries) load(name string) (*library, error) {
	if l == nil {
		return nil, nil
	}
	if !libraryName.MatchString(name) {
		return nil, fmt.Errorf("%q is not a library name: use Lua names joined by dots, as in \"text\" or \"text.slug\"", name)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if lib, ok := l.compiled[name]; ok {
		return lib, nil
	}
	rel := filepath.FromSlash(strings.ReplaceAll(name, ".", "/") + ".lua")
	for _, f := range l.folders {
		data, err := readLibrary(f.root, filepath.Join(f.sub, rel))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		file := filepath.Join(f.display, rel)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", file, err)
		}
		l.sources[file] = data
		s, err := Compile(file, data)
		if err != nil {
			return nil, err
		}
		lib := &library{name: name, file: file, proto: s.proto}
		l.compiled[name] = lib
		return lib, nil
	}
	l.compiled[name] = nil
	return nil, nil
}

// readLibrary reads name inside root without leaving it.
func readLibrary(root, name string) ([]byte, error) {
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	st, err := r.Stat(name)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, errors.New("it is a folder")
	}
	if st.Size() > maxLibrarySize {
		return nil, fmt.Errorf("the file is larger than %d bytes", maxLibrarySize)
	}
	return r.ReadFile(name)
}

// names lists the require names of every library in the folders, the
// first folder's first where two have the same name.
func (l *Libraries) names() ([]string, error) {
	if l == nil {
		return nil, nil
	}
	seen := map[string]bool{}
	var out []string
	for _, f := range l.folders {
		r, err := os.OpenRoot(f.root)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, err
		}
		err = fs.WalkDir(r.FS(), filepath.ToSlash(f.sub), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) && p == filepath.ToSlash(f.sub) {
					return fs.SkipDir
				}
				return err
			}
			if d.IsDir() || !strings.HasSuffix(p, ".lua") {
				return nil
			}
			rel, err := filepath.Rel(f.sub, filepath.FromSlash(p))
			if err != nil {
				return err
			}
			name := strings.ReplaceAll(filepath.ToSlash(strings.TrimSuffix(rel, ".lua")), "/", ".")
			if libraryName.MatchString(name) && !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
			return nil
		})
		r.Close()
		if err != nil {
			return nil, fmt.Errorf("list the libraries in %s: %w", f.display, err)
		}
	}
	return out, nil
}

// require is the Lua require: a built-in module, or a library, which runs
// the first time a run requires it; later requires get the same value.
func (r *runtime) require(L *glua.LState) int {
	name := L.CheckString(1)
	if mod, ok := r.modules[name]; ok {
		L.Push(mod)
		return 1
	}
	lib, err := r.libs.load(name)
	if err != nil {
		L.RaiseError("require %q: %v", name, err)
	}
	if lib == nil && r.libs == nil {
		L.RaiseError("require %q: no such module; okru-run scripts can require only %s (they cannot load files or native modules)",
			name, strings.Join(requirable, ", "))
	}
	if lib == nil {
		L.RaiseError("require %q: no such module; okru-run scripts can require only %s and the libraries in %s (there is no %s.lua)",
			name, strings.Join(requirable, ", "), r.libs.folderList(), strings.ReplaceAll(name, ".", "/"))
	}
	if r.loading[name] {
		L.RaiseError("require %q: %s requires itself (through %s)", name, lib.file, strings.Join(r.loadOrder, " -> "))
	}
	r.loading[name] = true
	r.loadOrder = append(r.loadOrder, name)
	L.Push(L.NewFunctionFromProto(lib.proto))
	L.Push(glua.LString(name))
	L.Call(1, 1)
	r.loadOrder = r.loadOrder[:len(r.loadOrder)-1]
	delete(r.loading, name)
	mod := L.Get(-1)
	L.Pop(1)
	if mod == glua.LNil {
		mod = glua.LTrue // as Lua's require does for a library that returns nothing
	}
	r.modules[name] = mod
	L.Push(mod)
	return 1
}

// folderList names the folders libraries are looked for in.
func (l *Libraries) folderList() string {
	var s []string
	for _, f := range l.folders {
		s = append(s, f.display)
	}
	return strings.Join(s, ", ")
}

// Sources returns the text of every library read so far, by file name as
// positions give it, for printing diagnostics with a snippet.
func (l *Libraries) Sources() map[string][]byte {
	out := map[string][]byte{}
	if l == nil {
		return out
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	maps.Copy(out, l.sources)
	return out
}
