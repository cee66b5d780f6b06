package browser

import (
	"fmt"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

// Acting on a page as a person would, with the page's own scripts off:
// clicks and key presses are input events, a choice in a list is the
// option's selected attribute, and the document is read through
// DevTools. Every query runs in the tab's own context: chromedp loses
// track of a page's nodes when a query runs in a derived one ("Could not
// find node with given id"), so these are guarded by go test's -timeout
// rather than a context deadline.

// Click clicks the element the CSS selector sel finds. What the click
// leads to is waited for with [Tab.WaitFor].
func (tab *Tab) Click(sel string) error {
	if err := chromedp.Do(tab.ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		return fmt.Errorf("failed to click %s: %w", sel, err)
	}
	return nil
}

// Type types text into the field sel, key by key.
func (tab *Tab) Type(sel, text string) error {
	if err := chromedp.Do(tab.ctx, chromedp.SendKeys(chromedp.CSS(sel), text)); err != nil {
		return fmt.Errorf("failed to type into %s: %w", sel, err)
	}
	return nil
}

// Choose selects the option with value in the select element sel.
func (tab *Tab) Choose(sel, value string) error {
	opt := sel + ` option[value="` + strings.ReplaceAll(value, `"`, `\"`) + `"]`
	if err := chromedp.Do(tab.ctx, chromedp.SetAttributeValue(chromedp.CSS(opt), "selected", "")); err != nil {
		return fmt.Errorf("failed to choose %q in %s: %w", value, sel, err)
	}
	return nil
}

// HTML returns the document as the browser now holds it.
func (tab *Tab) HTML() (string, error) {
	html, err := chromedp.Run(tab.ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		return "", fmt.Errorf("failed to read the page: %w", err)
	}
	return html, nil
}

// WaitFor waits until the document contains text, as after a click, a
// form sent, or a page that reloads itself, and returns the document.
func (tab *Tab) WaitFor(text string) (string, error) {
	deadline := time.Now().Add(patience)
	var last string
	for {
		// Reading fails while one page replaces another; try again.
		if html, err := tab.HTML(); err == nil {
			last = html
			if strings.Contains(html, text) {
				return html, nil
			}
		}
		if time.Now().After(deadline) {
			return last, fmt.Errorf("the page never showed %q", text)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
