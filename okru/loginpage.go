package okru

import (
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// The implicit login reads ok.ru's pages as a browser does: with an HTML
// parser, not with regular expressions, so that attribute order, quoting,
// entities and markup around the form do not matter.

// htmlPage is what a login needs of one page: its forms and whether it
// asks for a captcha.
type htmlPage struct {
	url     *url.URL
	forms   []*htmlForm
	captcha bool
}

// htmlForm is one <form> with every field a browser would know of.
type htmlForm struct {
	action *url.URL // resolved against the page's URL
	method string   // upper-case; GET when the form does not say
	fields []formField
}

// formField is one named input, button, select or textarea of a form.
type formField struct {
	name, value string
	kind        string // the input type, lower-case; "button" type submit; "select", "textarea"
	checked     bool   // for checkboxes and radio buttons
}

// pageKind is what a login page is, judged from its forms.
type pageKind int

const (
	pageUnknown pageKind = iota
	pageLogin
	pagePermissions
	pageCaptcha
)

// Field names of ok.ru's login and permissions forms (DESIGN.md section 3).
const (
	fieldEmail    = "fr.email"
	fieldPassword = "fr.password"
	buttonAccept  = "button_accept_request"
)

// parsePage reads an HTML document; base is the URL it was fetched from,
// against which form actions are resolved.
func parsePage(r io.Reader, base *url.URL) (*htmlPage, error) {
	doc, err := html.Parse(r)
	if err != nil {
		return nil, err
	}
	p := &htmlPage{url: base}
	p.walk(doc, nil)
	return p, nil
}

// walk visits n and its descendants; form is the form they belong to, nil
// outside any form. Fields outside forms are ignored, as a browser would
// not send them.
func (p *htmlPage) walk(n *html.Node, form *htmlForm) {
	if n.Type == html.ElementNode {
		switch n.DataAtom {
		case atom.Form:
			form = p.newForm(n)
		case atom.Input:
			p.noteCaptcha(attr(n, "name"), attr(n, "id"))
			if form != nil {
				form.addInput(n)
			}
		case atom.Button:
			if form != nil {
				form.addButton(n)
			}
		case atom.Select:
			if form != nil {
				form.addSelect(n)
			}
		case atom.Textarea:
			if form != nil && attr(n, "name") != "" {
				form.fields = append(form.fields, formField{name: attr(n, "name"), value: textOf(n), kind: "textarea"})
			}
		case atom.Img:
			p.noteCaptcha(attr(n, "src"), attr(n, "id"), attr(n, "alt"))
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		p.walk(c, form)
	}
}

// noteCaptcha marks the page as a captcha page when a field or an image
// is named after one.
func (p *htmlPage) noteCaptcha(values ...string) {
	for _, v := range values {
		if strings.Contains(strings.ToLower(v), "captcha") {
			p.captcha = true
		}
	}
}

func (p *htmlPage) newForm(n *html.Node) *htmlForm {
	f := &htmlForm{method: strings.ToUpper(strings.TrimSpace(attr(n, "method")))}
	if f.method == "" {
		f.method = "GET"
	}
	f.action = p.url
	if a := strings.TrimSpace(attr(n, "action")); a != "" {
		if u, err := p.url.Parse(a); err == nil {
			f.action = u
		} else {
			f.action = nil // an action no browser could follow
		}
	}
	p.forms = append(p.forms, f)
	return f
}

func (f *htmlForm) addInput(n *html.Node) {
	name := attr(n, "name")
	if name == "" {
		return
	}
	kind := strings.ToLower(attr(n, "type"))
	if kind == "" {
		kind = "text"
	}
	value, hasValue := attrOK(n, "value")
	if !hasValue && (kind == "checkbox" || kind == "radio") {
		value = "on" // what a browser sends for a checked box without a value
	}
	_, checked := attrOK(n, "checked")
	f.fields = append(f.fields, formField{name: name, value: value, kind: kind, checked: checked})
}

func (f *htmlForm) addButton(n *html.Node) {
	name := attr(n, "name")
	if name == "" {
		return
	}
	kind := strings.ToLower(attr(n, "type"))
	if kind == "" {
		kind = "submit" // a <button> submits unless it says otherwise
	}
	f.fields = append(f.fields, formField{name: name, value: attr(n, "value"), kind: kind})
}

// addSelect adds a select with the value a browser would send: the
// selected option's, else the first option's.
func (f *htmlForm) addSelect(n *html.Node) {
	name := attr(n, "name")
	if name == "" {
		return
	}
	var first, selected *html.Node
	var find func(*html.Node)
	find = func(c *html.Node) {
		if c.Type == html.ElementNode && c.DataAtom == atom.Option {
			if first == nil {
				first = c
			}
			if _, ok := attrOK(c, "selected"); ok && selected == nil {
				selected = c
			}
		}
		for k := c.FirstChild; k != nil; k = k.NextSibling {
			find(k)
		}
	}
	find(n)
	if selected == nil {
		selected = first
	}
	if selected == nil {
		return
	}
	value, ok := attrOK(selected, "value")
	if !ok {
		value = strings.TrimSpace(textOf(selected))
	}
	f.fields = append(f.fields, formField{name: name, value: value, kind: "select"})
}

func (f *htmlForm) has(name string) bool {
	return slices.ContainsFunc(f.fields, func(ff formField) bool { return ff.name == name })
}

// names lists the form's field names, for messages: names, never values.
func (f *htmlForm) names() string {
	var out []string
	for _, ff := range f.fields {
		if !slices.Contains(out, ff.name) {
			out = append(out, ff.name)
		}
	}
	if len(out) == 0 {
		return "no named fields"
	}
	return "fields " + strings.Join(out, ", ")
}

// values returns what a browser would post when the user fills the fields
// in set and clicks button ("" for pressing Enter, which clicks the form's
// first submit button): every hidden and text field with its value,
// checked boxes only, no other buttons.
func (f *htmlForm) values(set map[string]string, button string) url.Values {
	if button == "" {
		for _, ff := range f.fields {
			if ff.kind == "submit" {
				button = ff.name
				break
			}
		}
	}
	v := url.Values{}
	for _, ff := range f.fields {
		switch ff.kind {
		case "submit", "image", "button", "reset":
			if ff.name == button && ff.kind != "reset" && ff.kind != "button" {
				v.Add(ff.name, ff.value)
			}
			continue
		case "checkbox", "radio":
			if !ff.checked {
				continue
			}
		case "file":
			continue
		}
		if _, ok := set[ff.name]; ok {
			continue
		}
		v.Add(ff.name, ff.value)
	}
	for k, val := range set {
		v.Set(k, val)
	}
	return v
}

// classify tells what the page is. detail says, without any value, why a
// page is not recognised.
func (p *htmlPage) classify() (pageKind, string) {
	if p.captcha {
		return pageCaptcha, ""
	}
	switch len(p.forms) {
	case 0:
		return pageUnknown, "the page has no form"
	case 1:
	default:
		return pageUnknown, fmt.Sprintf("the page has %d forms where one was expected", len(p.forms))
	}
	f := p.forms[0]
	switch {
	case f.has(fieldEmail) && f.has(fieldPassword):
		return pageLogin, ""
	case f.has(buttonAccept):
		return pagePermissions, ""
	}
	return pageUnknown, "the form is neither the login form nor the permissions form (" + f.names() + ")"
}

func attr(n *html.Node, key string) string {
	v, _ := attrOK(n, key)
	return v
}

func attrOK(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && strings.EqualFold(a.Key, key) {
			return a.Val, true
		}
	}
	return "", false
}

// textOf returns the text inside n.
func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(c *html.Node) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
		for k := c.FirstChild; k != nil; k = k.NextSibling {
			walk(k)
		}
	}
	walk(n)
	return b.String()
}
