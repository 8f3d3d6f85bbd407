package lang

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// FuzzScanHCL checks that scanHCL finds the tokens hclsyntax's lexer finds,
// of the kinds CheckNesting counts, in the same order: a token it missed
// (an operator it took for a string) would let an expression past the
// limits. Beyond ASCII scanHCL ends names at each other character, so
// there it must find the same strings, templates and heredocs, and nesting
// and chains at least as deep.
//
//	go test ./lang -run '^$' -fuzz FuzzScanHCL -fuzztime 60s
func FuzzScanHCL(f *testing.F) {
	for _, dir := range []string{"../examples", "../testdata/cli", "../testdata/batch", "testdata"} {
		names, _ := filepath.Glob(filepath.Join(dir, "*.hcl"))
		for _, name := range names {
			if b, err := os.ReadFile(name); err == nil {
				f.Add(string(b))
			}
		}
	}
	for _, s := range []string{
		"x = \"a ${b + \"${c[*]}\"} %{ if d }e%{ endif }\" + 1",
		"x = <<-EOT\n  ${a + 1} $${b} %%{c}\n  EOT\ny = a ? b : c",
		"x = <<EOT\r\n${a}EOT\r\nEOT\r\n", "x = <<EOT", "x = <<EOTx\n", "a << b <= c", "x = <<_1-a\n_1-a\n",
		"/* a + b */ x = 1 // + 2\n# * 3\ny = a /* b", "/* /* */ x */", "x = 1e-5 - 1.e+2 - 1..2 - 1...",
		"x = a-b - c.d[0].*.e[*] - !f != g == h >= i && j || k => l :: m ... n",
		"x = \"\\\"${a}\\\\\" + \"unterminated\n y = [1]", "x = \"a$\" + \"b%\" + \"$$${c}\" + \"${~ d ~}\"",
		"x = {a = 1}\n}\n}${a}\"${b}\"", "x = \"${ {a = {b = 1}}.a.b ~}\"", "ü = ä + ö\nx = \xff - \xe2\x86\x92-1",
		"\xef\xbb\xbfx = 1 + 2", "x = 'a' ; `b` @ $ ^ ~ &", "x = <<é\n\"\né\ny = 1 + [2]\n", "x = <<→\n\"\n→\ny = 1 + [2]\n",
		"x = <<EOT\n \rEOT\ny = [1]\nEOT\n", "x = <<EOT\n${a}\r${b + 1}\nEOT\n", "x = <<EOT\nEOT\r\r\n", "\"\r${a + 1}\"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		for _, template := range []bool{false, true} {
			lex := hclsyntax.LexConfig
			if template {
				lex = hclsyntax.LexTemplate
			}
			tokens, _ := lex([]byte(src), "f.hcl", hcl.InitialPos)
			want, wantMax := scanCounts(func(each func(hclsyntax.Token) hcl.Diagnostics) {
				for _, tok := range tokens {
					each(tok)
				}
			})
			got, gotMax := scanCounts(func(each func(hclsyntax.Token) hcl.Diagnostics) {
				scanHCL([]byte(src), "f.hcl", template, each)
			})
			if isASCII(src) && !slices.Equal(got, want) {
				t.Fatalf("template %v: %q\n got %s\nwant %s", template, src, kinds(got), kinds(want))
			}
			if m, w := modeTokens(got), modeTokens(want); !slices.Equal(m, w) {
				t.Fatalf("template %v: %q: strings, templates or heredocs differ\n got %s\nwant %s", template, src, kinds(m), kinds(w))
			}
			if gotMax[0] < wantMax[0] || gotMax[1] < wantMax[1] {
				t.Fatalf("template %v: %q: nesting and chain %v, the lexer's tokens make %v", template, src, gotMax, wantMax)
			}
		}
	})
}

// scanCounts feeds the tokens scan gives to a tokenScan; it returns their
// kinds, and the deepest nesting and the longest chain it saw.
func scanCounts(scan func(each func(hclsyntax.Token) hcl.Diagnostics)) ([]hclsyntax.TokenType, [2]int) {
	var kinds []hclsyntax.TokenType
	var most [2]int
	s := tokenScan{ops: []int{0}}
	scan(func(tok hclsyntax.Token) hcl.Diagnostics {
		if k, ok := countedKind(tok.Type); ok {
			kinds = append(kinds, k)
		}
		_ = s.next(tok) // past the limits: go on counting
		most[0], most[1] = max(most[0], s.depth+s.unary), max(most[1], s.chained)
		return nil
	})
	return kinds, most
}

func modeTokens(ts []hclsyntax.TokenType) []hclsyntax.TokenType {
	var out []hclsyntax.TokenType
	for _, t := range ts {
		switch t {
		case hclsyntax.TokenOQuote, hclsyntax.TokenCQuote, hclsyntax.TokenOHeredoc, hclsyntax.TokenCHeredoc,
			hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl, hclsyntax.TokenTemplateSeqEnd:
			out = append(out, t)
		}
	}
	return out
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// countedKind maps a token type to what CheckNesting sees of it: every
// token that ends a term is an identifier to it; false for tokens it
// skips. Invalid tokens are skipped too: the lexer makes them of bad UTF-8
// in a template's text as well, and of bytes that are no token, where
// scanHCL makes their own types of them; the parser refuses either.
func countedKind(t hclsyntax.TokenType) (hclsyntax.TokenType, bool) {
	switch t {
	case hclsyntax.TokenNewline, hclsyntax.TokenComment, hclsyntax.TokenQuotedLit, hclsyntax.TokenStringLit,
		hclsyntax.TokenQuotedNewline, hclsyntax.TokenEOF:
		return 0, false
	case hclsyntax.TokenNumberLit:
		return hclsyntax.TokenIdent, true
	case hclsyntax.TokenOBrace, hclsyntax.TokenCBrace, hclsyntax.TokenOBrack, hclsyntax.TokenCBrack,
		hclsyntax.TokenOParen, hclsyntax.TokenCParen, hclsyntax.TokenOQuote, hclsyntax.TokenCQuote,
		hclsyntax.TokenOHeredoc, hclsyntax.TokenCHeredoc, hclsyntax.TokenStar, hclsyntax.TokenSlash,
		hclsyntax.TokenPlus, hclsyntax.TokenMinus, hclsyntax.TokenPercent, hclsyntax.TokenEqual,
		hclsyntax.TokenEqualOp, hclsyntax.TokenNotEqual, hclsyntax.TokenLessThan, hclsyntax.TokenLessThanEq,
		hclsyntax.TokenGreaterThan, hclsyntax.TokenGreaterThanEq, hclsyntax.TokenAnd, hclsyntax.TokenOr,
		hclsyntax.TokenBang, hclsyntax.TokenDot, hclsyntax.TokenComma, hclsyntax.TokenEllipsis,
		hclsyntax.TokenFatArrow, hclsyntax.TokenQuestion, hclsyntax.TokenColon, hclsyntax.TokenDoubleColon,
		hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl, hclsyntax.TokenTemplateSeqEnd,
		hclsyntax.TokenIdent:
		return t, true
	}
	return 0, false
}

func kinds(ts []hclsyntax.TokenType) string {
	var b strings.Builder
	for _, t := range ts {
		b.WriteRune(rune(t))
	}
	return b.String()
}
