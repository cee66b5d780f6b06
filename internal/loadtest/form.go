package loadtest

import (
	"bytes"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// FormDefaults returns what a browser would send for the first POST form on
// a page if the visitor touched nothing: hidden fields, checked boxes and
// radios, selected options, text values and textarea contents. The benchmark
// sends these with its own message, so it keeps working if the form grows a
// field, the way a real visitor's browser would.
func FormDefaults(page []byte) url.Values {
	vals := url.Values{}
	z := html.NewTokenizer(bytes.NewReader(page))
	inForm, done := false, false
	var selectName, firstOption, textareaName string
	var selectChosen bool
	var textarea strings.Builder
	for !done {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		name, hasAttr := z.TagName()
		tag := string(name)
		attrs := map[string]string{}
		for hasAttr {
			var k, v []byte
			k, v, hasAttr = z.TagAttr()
			attrs[string(k)] = string(v)
		}
		_, disabled := attrs["disabled"]
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken:
			if tag == "form" && !inForm {
				inForm = strings.EqualFold(attrs["method"], "post")
				continue
			}
			if !inForm || disabled {
				continue
			}
			switch tag {
			case "input":
				n := attrs["name"]
				if n == "" {
					continue
				}
				_, checked := attrs["checked"]
				switch strings.ToLower(attrs["type"]) {
				case "checkbox", "radio":
					if checked {
						v, ok := attrs["value"]
						if !ok {
							v = "on"
						}
						vals.Add(n, v)
					}
				case "submit", "button", "reset", "image", "file":
				default:
					vals.Add(n, attrs["value"])
				}
			case "select":
				selectName, firstOption, selectChosen = attrs["name"], "", false
			case "option":
				if selectName == "" || selectChosen {
					continue
				}
				v := attrs["value"]
				if _, ok := attrs["selected"]; ok {
					vals.Set(selectName, v)
					selectChosen = true
				} else if firstOption == "" && !vals.Has(selectName) {
					firstOption = v
					vals.Set(selectName, v)
				}
			case "textarea":
				textareaName = attrs["name"]
				textarea.Reset()
			}
		case html.TextToken:
			if textareaName != "" {
				textarea.Write(z.Text())
			}
		case html.EndTagToken:
			switch tag {
			case "form":
				done = inForm
			case "select":
				selectName = ""
			case "textarea":
				if textareaName != "" {
					vals.Add(textareaName, strings.TrimPrefix(textarea.String(), "\n"))
				}
				textareaName = ""
			}
		}
	}
	return vals
}
