package lang

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// MaxNesting is how deeply brackets, braces, parentheses, template
// interpolations and unary operators may nest in a workflow file, a
// variables file or a -var value. HCL's parsers recurse once per level, so
// a small file nested tens of thousands deep would otherwise overflow the
// goroutine stack, which Go cannot recover from. Real workflows nest a
// handful of levels.
const MaxNesting = 256

// CheckNesting reports source nested deeper than MaxNesting, at the
// file:line where the limit is passed, without parsing it. JSON is chosen
// by the .json suffix of filename, as for loading. Call it before any HCL
// or JSON parser sees untrusted text.
func CheckNesting(filename string, src []byte) hcl.Diagnostics {
	if strings.HasSuffix(filename, ".json") {
		return checkJSONNesting(filename, src)
	}
	return checkHCLNesting(filename, src)
}

// checkHCLNesting counts nesting on the lexer's tokens, which does not
// recurse: it knows strings, comments and heredocs, so brackets inside them
// are not counted.
func checkHCLNesting(filename string, src []byte) hcl.Diagnostics {
	tokens, _ := hclsyntax.LexConfig(src, filename, hcl.InitialPos) // the parser reports lexing errors
	depth, unary := 0, 0
	for _, tok := range tokens {
		switch tok.Type {
		case hclsyntax.TokenOBrace, hclsyntax.TokenOBrack, hclsyntax.TokenOParen,
			hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
			depth++
		case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen,
			hclsyntax.TokenTemplateSeqEnd:
			depth = max(depth-1, 0)
		}
		// A run of unary operators (!!!!x, - - - 1) nests like brackets.
		if tok.Type == hclsyntax.TokenBang || tok.Type == hclsyntax.TokenMinus {
			unary++
		} else {
			unary = 0
		}
		if depth+unary > MaxNesting {
			return tooDeep(tok.Range)
		}
	}
	return nil
}

// checkJSONNesting counts [ and { outside strings.
func checkJSONNesting(filename string, src []byte) hcl.Diagnostics {
	depth, line, lineStart := 0, 1, 0
	inString, escaped := false, false
	for i, b := range src {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case b == '\\':
				escaped = true
			case b == '"':
				inString = false
			}
		case b == '"':
			inString = true
		case b == '[' || b == '{':
			depth++
			if depth > MaxNesting {
				start := hcl.Pos{Line: line, Column: i - lineStart + 1, Byte: i}
				end := hcl.Pos{Line: line, Column: start.Column + 1, Byte: i + 1}
				return tooDeep(hcl.Range{Filename: filename, Start: start, End: end})
			}
		case b == ']' || b == '}':
			depth = max(depth-1, 0)
		}
		if b == '\n' {
			line, lineStart = line+1, i+1
		}
	}
	return nil
}

func tooDeep(rng hcl.Range) hcl.Diagnostics {
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Nested too deeply",
		Detail: fmt.Sprintf("Brackets, braces, parentheses, interpolations and unary operators nest more than %d levels deep here; "+
			"flatten the expression or split it into locals.", MaxNesting),
		Subject: rng.Ptr(),
	}}
}
