package lang

import (
	"bytes"
	"encoding/json"
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

// MaxOperators is how many operators may chain in one expression, counting
// those of the expressions it is inside: binary operators (+ - * / % ==
// != < <= > >= && ||), conditionals (? :), indexes and splats ([i], [*],
// .*). HCL makes a chain of them a tree as deep as the chain is long, and
// its parser, evaluator and walkers recurse once per level: a file of
// 1 + 1 + ... with 1,000,000 terms (4 MB) grew the stack to 1.6 GB and
// then overflowed it, as did true ? true ? ... 1,000,000 levels deep.
// Workflows chain a few operators, a generated sum or condition some
// hundreds; a chain of 4096 parses, evaluates and is walked in a fraction
// of a second with about 10 MB (TestOperatorsWithinLimit), where 20,000
// take seconds and 50 MB.
const MaxOperators = 4096

// CheckNesting reports source nested deeper than MaxNesting, or with more
// than MaxOperators chained in one expression, at the file:line where the
// limit is passed, without parsing it. JSON is chosen by the .json suffix
// of filename, as for loading. Call it before any HCL or JSON parser sees
// untrusted text.
func CheckNesting(filename string, src []byte) hcl.Diagnostics {
	if strings.HasSuffix(filename, ".json") {
		return checkJSONNesting(filename, src)
	}
	return checkHCLNesting(filename, src)
}

// checkHCLNesting counts nesting and operators on HCL's tokens (see
// scanHCL): strings, comments and heredocs are known, so brackets and
// operators inside them are not counted.
func checkHCLNesting(filename string, src []byte) hcl.Diagnostics {
	return checkTokens(src, filename, false)
}

// checkTokens checks the tokens of src, a template when template is set.
func checkTokens(src []byte, filename string, template bool) hcl.Diagnostics {
	s := tokenScan{ops: []int{0}}
	return scanHCL(src, filename, template, s.next)
}

// tokenScan follows the nesting and the operator chains of a token stream.
// Fed the tokens scanHCL feeds, it needs only their types.
type tokenScan struct {
	depth, unary int
	// ops counts the operators chained at each open level, the outermost
	// first; chained is their sum. A chain ends at a comma, = or =>; one
	// inside brackets adds to the chain around them until they close.
	// Newlines do not end one: inside brackets and for expressions HCL
	// reads on across them.
	ops     []int
	chained int
	prev    hclsyntax.TokenType // the last token other than a newline or a comment
}

func (s *tokenScan) next(tok hclsyntax.Token) hcl.Diagnostics {
	switch tok.Type {
	case hclsyntax.TokenOBrace, hclsyntax.TokenOBrack, hclsyntax.TokenOParen,
		hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
		if tok.Type == hclsyntax.TokenOBrack && endsTerm(s.prev) {
			s.chain() // an index or a splat
		}
		s.depth++
		s.ops = append(s.ops, 0)
	case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen,
		hclsyntax.TokenTemplateSeqEnd:
		s.depth = max(s.depth-1, 0)
		if n := len(s.ops); n > 1 {
			s.chained -= s.ops[n-1]
			s.ops = s.ops[:n-1]
		}
	case hclsyntax.TokenComma, hclsyntax.TokenEqual, hclsyntax.TokenFatArrow:
		s.chained -= s.ops[len(s.ops)-1]
		s.ops[len(s.ops)-1] = 0
	case hclsyntax.TokenOr, hclsyntax.TokenAnd, hclsyntax.TokenEqualOp, hclsyntax.TokenNotEqual,
		hclsyntax.TokenLessThan, hclsyntax.TokenLessThanEq, hclsyntax.TokenGreaterThan, hclsyntax.TokenGreaterThanEq,
		hclsyntax.TokenPlus, hclsyntax.TokenMinus, hclsyntax.TokenStar, hclsyntax.TokenSlash, hclsyntax.TokenPercent,
		hclsyntax.TokenQuestion:
		s.chain()
	}
	if tok.Type != hclsyntax.TokenNewline && tok.Type != hclsyntax.TokenComment {
		s.prev = tok.Type
	}
	// A run of unary operators (!!!!x, - - - 1) nests like brackets.
	if tok.Type == hclsyntax.TokenBang || tok.Type == hclsyntax.TokenMinus {
		s.unary++
	} else {
		s.unary = 0
	}
	if s.depth+s.unary > MaxNesting {
		return tooDeep(tok.Range)
	}
	if s.chained > MaxOperators {
		return tooManyOperators(tok.Range)
	}
	return nil
}

func (s *tokenScan) chain() {
	s.ops[len(s.ops)-1]++
	s.chained++
}

// endsTerm reports whether a token of type t can end a term, so that a [
// after it is an index rather than the start of a tuple.
func endsTerm(t hclsyntax.TokenType) bool {
	switch t {
	case hclsyntax.TokenIdent, hclsyntax.TokenNumberLit, hclsyntax.TokenCQuote, hclsyntax.TokenCHeredoc,
		hclsyntax.TokenCBrack, hclsyntax.TokenCParen, hclsyntax.TokenCBrace, hclsyntax.TokenStar:
		return true
	}
	return false
}

// checkJSONNesting counts [ and { outside strings, and checks strings as
// HCL: the JSON syntax evaluates every string as a template (its ${ }
// sequences hold expressions), and reads the string of a "type" (a
// variable's type constraint) as an expression.
func checkJSONNesting(filename string, src []byte) hcl.Diagnostics {
	depth, line, lineStart := 0, 1, 0
	inString, escaped, strStart := false, false, 0
	at := func(i int) hcl.Range {
		start := hcl.Pos{Line: line, Column: i - lineStart + 1, Byte: i}
		end := hcl.Pos{Line: line, Column: start.Column + 1, Byte: i + 1}
		return hcl.Range{Filename: filename, Start: start, End: end}
	}
	var strRange hcl.Range
	key := "" // of the value being read
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
				lit := src[strStart : i+1]
				if isKey(src[i+1:]) {
					key = ""
					_ = json.Unmarshal(lit, &key)
				}
				if diags := checkJSONString(lit, strRange, key == "type"); diags != nil {
					return diags
				}
			}
		case b == '"':
			inString, strStart, strRange = true, i, at(i)
		case b == '[' || b == '{':
			depth++
			if depth > MaxNesting {
				return tooDeep(at(i))
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

// isKey reports whether a JSON string followed by rest is an object's key.
func isKey(rest []byte) bool {
	rest = bytes.TrimLeft(rest, " \t\r\n")
	return len(rest) > 0 && rest[0] == ':'
}

// checkJSONString checks the JSON string literal lit, found at rng, as a
// template, and as an expression too when expr is set; a diagnostic names
// rng.
func checkJSONString(lit []byte, rng hcl.Range, expr bool) hcl.Diagnostics {
	if !bytes.ContainsAny(lit, "[{(!-+*/%<>=&|?") {
		return nil // nothing the checks count
	}
	var str string
	if json.Unmarshal(lit, &str) != nil {
		return nil // the JSON parser reports it
	}
	diags := checkTokens([]byte(str), rng.Filename, true)
	if diags == nil && expr {
		diags = checkTokens([]byte(str), rng.Filename, false)
	}
	if diags != nil {
		diags[0].Subject = rng.Ptr()
	}
	return diags
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

func tooManyOperators(rng hcl.Range) hcl.Diagnostics {
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Too many operators in one expression",
		Detail: fmt.Sprintf("More than %d operators (arithmetic, comparisons, && and ||, conditionals, indexes and splats) "+
			"chain in one expression here, counting those of the expressions around it: HCL nests each one a level deeper. "+
			"Split the expression into locals.", MaxOperators),
		Subject: rng.Ptr(),
	}}
}
