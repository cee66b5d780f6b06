package desk

import (
	"fmt"
	"html"
	"html/template"
	"strings"
)

// Charts are SVG drawn here, in the page, with no script: each has a
// title and a description that a screen reader reads, and the page gives
// the same figures as a table.

type chart struct {
	ID, Title string
	SVG       template.HTML
	Data      []stat
	Empty     bool
}

// scale returns the largest value, at least 1.
func scale(data []stat) int {
	top := 1
	for _, s := range data {
		top = max(top, s.Value)
	}
	return top
}

// describe is the chart's text equivalent.
func describe(data []stat) string {
	parts := make([]string, len(data))
	for i, s := range data {
		parts[i] = fmt.Sprintf("%s: %d", s.Label, s.Value)
	}
	return strings.Join(parts, "; ") + "."
}

func open(b *strings.Builder, id, title string, data []stat, w, h int) {
	fmt.Fprintf(b, `<svg class="chart" role="img" aria-labelledby="%[1]s-t %[1]s-d" viewBox="0 0 %[2]d %[3]d" width="%[2]d" height="%[3]d" xmlns="http://www.w3.org/2000/svg">`, id, w, h)
	fmt.Fprintf(b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, id, html.EscapeString(title), id, html.EscapeString(describe(data)))
}

// columns draws one column per item, labelled below and valued above:
// for months.
func columns(id, title string, data []stat) chart {
	const h, top, bottom, left = 240, 24, 44, 12
	colW := 56
	w := left*2 + colW*len(data)
	var b strings.Builder
	open(&b, id, title, data, w, h)
	max := scale(data)
	plot := h - top - bottom
	for i, s := range data {
		bh := plot * s.Value / max
		x := left + i*colW
		fmt.Fprintf(&b, `<rect class="bar" x="%d" y="%d" width="%d" height="%d"></rect>`, x+8, top+plot-bh, colW-16, bh)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">%d</text>`, x+colW/2, top+plot-bh-6, s.Value)
		month, year, _ := strings.Cut(s.Label, " ")
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">%s</text>`, x+colW/2, h-bottom+18, html.EscapeString(month))
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">%s</text>`, x+colW/2, h-bottom+34, html.EscapeString(year))
	}
	fmt.Fprintf(&b, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"></line>`, left, top+plot, w-left, top+plot)
	b.WriteString(`</svg>`)
	return chart{ID: id, Title: title, SVG: template.HTML(b.String()), Data: data}
}

// rows draws one bar per item, labelled on the left and valued at its
// end: for categories and statuses.
func rows(id, title string, data []stat) chart {
	if len(data) == 0 {
		return chart{ID: id, Title: title, Empty: true}
	}
	const w, labelW, rowH, pad = 720, 270, 30, 10
	h := pad*2 + rowH*len(data)
	var b strings.Builder
	open(&b, id, title, data, w, h)
	max := scale(data)
	barMax := w - labelW - 60
	for i, s := range data {
		y := pad + i*rowH
		bw := barMax * s.Value / max
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, labelW-10, y+rowH/2+5, html.EscapeString(s.Label))
		fmt.Fprintf(&b, `<rect class="bar" x="%d" y="%d" width="%d" height="%d"></rect>`, labelW, y+5, bw, rowH-10)
		fmt.Fprintf(&b, `<text x="%d" y="%d">%d</text>`, labelW+bw+8, y+rowH/2+5, s.Value)
	}
	fmt.Fprintf(&b, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"></line>`, labelW, pad, labelW, h-pad)
	b.WriteString(`</svg>`)
	return chart{ID: id, Title: title, SVG: template.HTML(b.String()), Data: data}
}
