module github.com/okru-run/okru-run

go 1.26.0

require (
	github.com/agext/levenshtein v1.2.1
	github.com/yuin/gopher-lua v1.1.2
	golang.org/x/time v0.16.0
)
