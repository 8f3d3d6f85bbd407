package render

import (
	"fmt"
	"html/template"
	"io"
	"time"
)

// The HTML report: one self-contained page (no file or network beside
// it) with each suite, its cases, the step instances each ran with their
// durations and failures, and a timeline of the instances. html/template
// escapes every text of the report, so a message cannot inject markup.

// WriteHTML writes r as one HTML page.
func WriteHTML(w io.Writer, r *Report) error {
	return htmlPage.Execute(w, htmlData(r))
}

type htmlReport struct {
	*Report
	Counts Counts
	Span   time.Duration
	Suites []htmlSuite
}

type htmlSuite struct {
	ReportSuite
	Cases []htmlCase
}

type htmlCase struct {
	ReportCase
	Steps []htmlStep
}

type htmlStep struct {
	ReportStep
	Left, Width float64 // the timeline bar, in percent of the report's span
}

func htmlData(r *Report) htmlReport {
	span := r.Duration
	if span <= 0 {
		span = time.Millisecond
	}
	d := htmlReport{Report: r, Counts: r.Counts(), Span: span}
	for _, s := range r.Suites {
		hs := htmlSuite{ReportSuite: s}
		for _, c := range s.Cases {
			hc := htmlCase{ReportCase: c}
			for _, st := range c.Steps {
				left := float64(st.Started.Sub(r.Started)) / float64(span) * 100
				width := float64(st.Duration) / float64(span) * 100
				left = min(max(left, 0), 99.5)
				width = min(max(width, 0.5), 100-left)
				hc.Steps = append(hc.Steps, htmlStep{ReportStep: st, Left: left, Width: width})
			}
			hs.Cases = append(hs.Cases, hc)
		}
		d.Suites = append(d.Suites, hs)
	}
	return d
}

func humanDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(10 * time.Millisecond).String()
}

var htmlPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"dur":  humanDuration,
	"pct":  func(f float64) template.CSS { return template.CSS(fmt.Sprintf("%.2f%%", f)) },
	"time": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Name}}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 2em; }
.pass { color: #1a7f37; } .fail, .error, .failed { color: #cf222e; } .skipped, .warn { color: #9a6700; }
table { border-collapse: collapse; width: 100%; margin: .5em 0; }
th, td { text-align: left; padding: .2em .6em; border-bottom: 1px solid #ddd; vertical-align: top; }
.case { margin: 1em 0; padding: .5em 1em; border-left: 4px solid #1a7f37; background: #f6f8fa; }
.case.fail, .case.error { border-color: #cf222e; } .case.skipped, .case.warn { border-color: #9a6700; }
.failure, .warning { font-weight: 600; }
pre { white-space: pre-wrap; background: #fff; border: 1px solid #ddd; padding: .5em; }
.timeline { position: relative; height: 1.2em; background: #eee; min-width: 10em; }
.bar { position: absolute; top: 0; bottom: 0; background: #1a7f37; }
.bar.failed { background: #cf222e; } .bar.skipped { background: #d4a72c; }
</style>
</head>
<body>
<h1>{{.Name}}</h1>
<p>Started {{time .Started}}, took {{dur .Duration}}.
<span id="summary" data-tests="{{.Counts.Tests}}" data-failures="{{.Counts.Failures}}" data-errors="{{.Counts.Errors}}" data-skipped="{{.Counts.Skipped}}" data-warnings="{{.Counts.Warnings}}"></span></p>
{{range .Suites}}
<section class="suite">
<h2>{{.Name}} <small>({{dur .Duration}})</small></h2>
{{range .Cases}}
<div class="case {{.Status}}">
<h3><span class="{{.Status}}">{{.Status}}</span> {{.Name}} <small>({{dur .Duration}})</small></h3>
{{range .Failures}}<p class="failure">{{.}}</p>{{end}}
{{range .Warnings}}<p class="warning">warning: {{.}}</p>{{end}}
{{if .Detail}}<pre>{{.Detail}}</pre>{{end}}
{{if .Steps}}
<table>
<tr><th>instance</th><th>method</th><th>status</th><th>duration</th><th>timeline</th><th>error</th></tr>
{{range .Steps}}
<tr class="step {{.Status}}"><td>{{.Instance}}</td><td>{{.Method}}</td><td class="{{.Status}}">{{.Status}}</td><td>{{dur .Duration}}</td>
<td><div class="timeline"><div class="bar {{.Status}}" style="left: {{pct .Left}}; width: {{pct .Width}}"></div></div></td>
<td>{{.Error}}</td></tr>
{{end}}
</table>
{{end}}
</div>
{{end}}
</section>
{{end}}
<script>
// The summary line, from the counts of the page: the headless browser test
// checks that it was written, so that the page is known to render.
(function () {
  var s = document.getElementById("summary");
  var failed = Number(s.dataset.failures) + Number(s.dataset.errors);
  var passed = Number(s.dataset.tests) - failed - Number(s.dataset.skipped);
  var warned = Number(s.dataset.warnings);
  s.textContent = " " + passed + " passed" + (warned > 0 ? " (" + warned + " with warnings)" : "") +
    ", " + failed + " failed, " + s.dataset.skipped + " skipped.";
  s.className = failed > 0 ? "fail" : "pass";
})();
</script>
</body>
</html>
`))
