package lang

import (
	"bytes"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// scanHCL feeds the tokens of HCL native syntax that CheckNesting counts to
// each, in order, and stops at the first diagnostic each returns. It
// follows the rules of hclsyntax's lexer (strings with their escapes,
// heredocs, comments, template sequences) but keeps no token: the lexer
// holds about 100 bytes a token, 400 MB for a 4 MB file of 1 + 1 + ...,
// which this check must refuse at once. FuzzScanHCL checks that both find
// the same tokens. template starts in a bare template (a string of the
// JSON syntax) rather than in an expression.
//
// Tokens it does not count (literals, comments, newlines) are not fed; a
// token that closes a term is fed as TokenIdent, whatever it was.
//
// Text that is not UTF-8 goes to the lexer: it reads some broken
// sequences together with the bytes after them (a quote among them), and
// the parser refuses such text only after it parsed it.
func scanHCL(src []byte, filename string, template bool, each func(hclsyntax.Token) hcl.Diagnostics) hcl.Diagnostics {
	if !utf8.Valid(src) {
		lex := hclsyntax.LexConfig
		if template {
			lex = hclsyntax.LexTemplate
		}
		tokens, _ := lex(src, filename, hcl.InitialPos) // the parser reports lexing errors
		for _, tok := range tokens {
			if diags := each(tok); diags != nil {
				return diags
			}
		}
		return nil
	}
	s := hclScanner{src: src, filename: filename, line: 1, each: each}
	if bytes.HasPrefix(src, []byte("\xef\xbb\xbf")) {
		s.i, s.lineStart = 3, 3
	}
	if template {
		s.modes = []scanMode{{kind: inBare}}
	} else {
		s.modes = []scanMode{{kind: inCode}}
	}
	for s.i < len(src) && s.diags == nil {
		switch m := &s.modes[len(s.modes)-1]; m.kind {
		case inCode, inInterp:
			s.code(m)
		case inString:
			s.quoted()
		default:
			s.heredoc(m)
		}
	}
	return s.diags
}

type scanKind int

const (
	inCode   scanKind = iota // the file, or an expression
	inInterp                 // code in a template's ${ } or %{ }
	inString                 // a quoted template
	inHeredoc
	inBare // a bare template: a string of the JSON syntax
)

type scanMode struct {
	kind scanKind
	// braces open in an interpolation: its } is the one at 0
	braces int
	// a heredoc's closing marker, and whether the scanner is at the start
	// of one of its lines with nothing but text before on that line
	marker      []byte
	startOfLine bool
}

type hclScanner struct {
	src             []byte
	filename        string
	i               int
	line, lineStart int
	modes           []scanMode
	// noCommentEnd: a search for */ failed, so none follows: /* /* /* ...
	// is not searched to its end again and again
	noCommentEnd bool
	each         func(hclsyntax.Token) hcl.Diagnostics
	diags        hcl.Diagnostics
}

// emit feeds a token of n bytes at the scanner's offset and moves past it.
func (s *hclScanner) emit(t hclsyntax.TokenType, n int) {
	start := hcl.Pos{Line: s.line, Column: s.i - s.lineStart + 1, Byte: s.i}
	end := hcl.Pos{Line: s.line, Column: start.Column + n, Byte: s.i + n}
	s.i += n
	s.diags = s.each(hclsyntax.Token{Type: t, Range: hcl.Range{Filename: s.filename, Start: start, End: end}})
}

// skip moves past n bytes that hold no newline.
func (s *hclScanner) skip(n int) { s.i += n }

func (s *hclScanner) newline() {
	s.i++
	s.line, s.lineStart = s.line+1, s.i
}

func (s *hclScanner) push(m scanMode) { s.modes = append(s.modes, m) }
func (s *hclScanner) pop()            { s.modes = s.modes[:len(s.modes)-1] }

// twoByteTokens are the operators of two bytes (and "..." of three).
var twoByteTokens = map[string]hclsyntax.TokenType{
	"==": hclsyntax.TokenEqualOp, "!=": hclsyntax.TokenNotEqual, ">=": hclsyntax.TokenGreaterThanEq,
	"<=": hclsyntax.TokenLessThanEq, "&&": hclsyntax.TokenAnd, "||": hclsyntax.TokenOr,
	"::": hclsyntax.TokenDoubleColon, "=>": hclsyntax.TokenFatArrow,
}

// code reads one token of code.
func (s *hclScanner) code(m *scanMode) {
	src, i := s.src, s.i
	c := src[i]
	next := byte(0)
	if i+1 < len(src) {
		next = src[i+1]
	}
	switch {
	case c == ' ' || c == '\t':
		s.skip(1)
	case c == '\n':
		s.newline()
	case c == '\r' && next == '\n':
		s.skip(1)
		s.newline()
	case c == '#' || c == '/' && next == '/':
		s.skip(lineEnd(src[i:]))
	case c == '/' && next == '*' && !s.noCommentEnd:
		end := bytes.Index(src[i+2:], []byte("*/"))
		if end < 0 {
			// Not a comment: the lexer reads / and * on.
			s.noCommentEnd = true
			s.emit(hclsyntax.TokenSlash, 1)
			return
		}
		s.text(i + 2 + end + 2)
	case isDigit(c):
		s.emit(hclsyntax.TokenIdent, numberLen(src[i:]))
	case c == '"':
		s.emit(hclsyntax.TokenOQuote, 1)
		s.push(scanMode{kind: inString})
	case c == '<' && next == '<' && s.heredocStart():
	case c == '{':
		if m.kind == inInterp {
			m.braces++
		}
		s.emit(hclsyntax.TokenOBrace, 1)
	case c == '}':
		if m.kind == inInterp && m.braces == 0 {
			s.pop()
			s.emit(hclsyntax.TokenTemplateSeqEnd, 1)
			return
		}
		if m.kind == inInterp {
			m.braces--
		}
		s.emit(hclsyntax.TokenCBrace, 1)
	case c == '~' && next == '}':
		// ~} ends a template sequence even where a { is open, as the
		// lexer has it (the parser refuses that).
		if m.kind == inInterp && m.braces == 0 {
			s.pop()
		} else if m.kind == inInterp {
			m.braces--
		}
		s.emit(hclsyntax.TokenTemplateSeqEnd, 2)
	case c == '.' && next == '.' && i+2 < len(src) && src[i+2] == '.':
		s.emit(hclsyntax.TokenEllipsis, 3)
	default:
		if t, ok := twoByteTokens[string(src[i:min(i+2, len(src))])]; ok {
			s.emit(t, 2)
			return
		}
		switch {
		case isIdentStart(c):
			s.emit(hclsyntax.TokenIdent, identLen(src[i:]))
		case c < utf8.RuneSelf:
			s.emit(hclsyntax.TokenType(c), 1) // every other byte is its own token
		default:
			// A letter, or a character that is no token: either way one
			// that may end a term, which at worst counts an index too
			// many. Ending identifiers at it, unlike the lexer's Unicode
			// tables, at worst counts a - in a name as an operator.
			_, n := utf8.DecodeRune(src[i:])
			s.emit(hclsyntax.TokenIdent, n)
		}
	}
}

// text moves to end past text that may hold newlines.
func (s *hclScanner) text(end int) {
	for s.i < end {
		if s.src[s.i] == '\n' {
			s.newline()
		} else {
			s.i++
		}
	}
}

// heredocStart starts a heredoc if one starts here (<<EOT or <<-EOT and a
// line end); otherwise << is two less-than operators.
func (s *hclScanner) heredocStart() bool {
	rest := s.src[s.i+2:]
	n := 0
	if len(rest) > 0 && rest[0] == '-' {
		n = 1
	}
	m, ascii := n, true
	for m < len(rest) && (rest[m] >= utf8.RuneSelf || isIdentStart(rest[m]) || m > n && (isDigit(rest[m]) || rest[m] == '-')) {
		ascii = ascii && rest[m] < utf8.RuneSelf
		m++
	}
	nl := 0
	switch {
	case m == n:
		return false
	case bytes.HasPrefix(rest[m:], []byte("\n")):
		nl = 1
	case bytes.HasPrefix(rest[m:], []byte("\r\n")):
		nl = 2
	default:
		return false
	}
	if !ascii && !lexesHeredoc(s.src[s.i:s.i+2+m+nl]) {
		// The lexer's Unicode tables say whether the marker is a name:
		// guessing wrong would take its text for code, or code for text.
		return false
	}
	s.emit(hclsyntax.TokenOHeredoc, 2+m+nl-1)
	s.newline()
	s.push(scanMode{kind: inHeredoc, marker: rest[n:m], startOfLine: true})
	return true
}

// lexesHeredoc reports whether hclsyntax's lexer reads all of intro (<<, a
// marker, a line end) as the start of a heredoc.
func lexesHeredoc(intro []byte) bool {
	tokens, _ := hclsyntax.LexConfig(intro, "", hcl.InitialPos)
	return len(tokens) > 0 && tokens[0].Type == hclsyntax.TokenOHeredoc && tokens[0].Range.End.Byte == len(intro)
}

// quoted reads a quoted template up to its end or its next sequence.
func (s *hclScanner) quoted() {
	src := s.src
	for s.i < len(src) {
		switch c := src[s.i]; {
		case c == '"':
			s.pop()
			s.emit(hclsyntax.TokenCQuote, 1)
			return
		case c == '\n':
			s.newline()
		case c == '\\':
			if s.i+1 < len(src) && src[s.i+1] != '\n' && src[s.i+1] != '\r' {
				s.skip(2)
			} else {
				s.skip(1)
			}
		case c == '$' || c == '%':
			if s.sequence() {
				return
			}
		default:
			s.skip(1)
		}
	}
}

// sequence starts a template sequence (${ or %{) if one starts here, or
// moves past an escaped one ($${, %%{) or a lone $ or %; it reports
// whether it started one.
func (s *hclScanner) sequence() bool {
	src, i := s.src, s.i
	c := src[i]
	switch {
	case i+1 < len(src) && src[i+1] == '{':
		t, n := hclsyntax.TokenTemplateInterp, 2
		if c == '%' {
			t = hclsyntax.TokenTemplateControl
		}
		if i+2 < len(src) && src[i+2] == '~' {
			n = 3
		}
		if top := &s.modes[len(s.modes)-1]; top.kind == inHeredoc {
			top.startOfLine = false
		}
		s.push(scanMode{kind: inInterp})
		s.emit(t, n)
		return true
	case i+2 < len(src) && src[i+1] == c && src[i+2] == '{':
		s.skip(3)
	default:
		s.skip(1)
	}
	return false
}

// heredoc reads a heredoc's text (or a bare template's) up to its end or
// its next sequence.
func (s *hclScanner) heredoc(m *scanMode) {
	src := s.src
	for s.i < len(src) {
		if m.kind == inHeredoc && m.startOfLine {
			n := lineEnd(src[s.i:])
			line := src[s.i : s.i+n]
			if s.i+n < len(src) && bytes.Equal(bytes.TrimSpace(line), m.marker) && !hasLoneCR(line) {
				s.pop()
				s.emit(hclsyntax.TokenCHeredoc, n)
				return
			}
			m.startOfLine = false
		}
		switch c := src[s.i]; {
		case c == '\n':
			s.newline()
			m.startOfLine = true
		case c == '\r' && !bytes.HasPrefix(src[s.i:], []byte("\r\n")):
			// The lexer matches no token at a lone \r in a heredoc or a
			// bare template: it takes all the rest for one token, invalid
			// or (in a bare template) a literal.
			s.i = len(src)
		case c == '$' || c == '%':
			if s.sequence() {
				return
			}
		default:
			s.skip(1)
		}
	}
}

// hasLoneCR reports whether line, a line without its \n, holds a \r that
// is not the \r of a \r\n line end.
func hasLoneCR(line []byte) bool {
	return bytes.IndexByte(bytes.TrimSuffix(line, []byte("\r")), '\r') >= 0
}

// lineEnd returns the offset of the first \n in b, or len(b).
func lineEnd(b []byte) int {
	if n := bytes.IndexByte(b, '\n'); n >= 0 {
		return n
	}
	return len(b)
}

// numberLen returns the length of the number literal at the start of b:
// digits, dots and exponents (1e-5), not ending with a dot (1...2 is 1 and
// an ellipsis).
func numberLen(b []byte) int {
	n, end := 1, 1
	for n < len(b) {
		switch c := b[n]; {
		case isDigit(c):
			n++
			end = n
		case c == '.':
			n++
		case (c == 'e' || c == 'E') && n+1 < len(b) && isDigit(b[n+1]):
			n += 2
			end = n
		case (c == 'e' || c == 'E') && n+2 < len(b) && (b[n+1] == '+' || b[n+1] == '-') && isDigit(b[n+2]):
			n += 3
			end = n
		default:
			return end
		}
	}
	return end
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// identLen returns the length of the identifier at the start of b, of
// ASCII letters, digits, _ and -.
func identLen(b []byte) int {
	n := 1
	for n < len(b) && (isIdentStart(b[n]) || isDigit(b[n]) || b[n] == '-') {
		n++
	}
	return n
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
