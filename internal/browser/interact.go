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
// find node with given id"), so a watchdog, not a context deadline,
// bounds each.

// Click clicks the element the CSS selector sel finds. What the click
// leads to is waited for with [Tab.WaitFor].
func (tab *Tab) Click(sel string) error {
	if err := tab.act(chromedp.Click(chromedp.CSS(sel))); err != nil {
		return fmt.Errorf("failed to click %s: %w", sel, err)
	}
	return nil
}

// Type types text into the field sel, key by key.
func (tab *Tab) Type(sel, text string) error {
	if err := tab.act(chromedp.SendKeys(chromedp.CSS(sel), text)); err != nil {
		return fmt.Errorf("failed to type into %s: %w", sel, err)
	}
	return nil
}

// Choose selects the option with value in the select element sel.
func (tab *Tab) Choose(sel, value string) error {
	opt := sel + ` option[value="` + strings.ReplaceAll(value, `"`, `\"`) + `"]`
	if err := tab.act(chromedp.SetAttributeValue(chromedp.CSS(opt), "selected", "")); err != nil {
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
			if strings.Contains(html, text) && tab.loaded() {
				return html, nil
			}
		}
		if time.Now().After(deadline) {
			return last, fmt.Errorf("the page never showed %q", text)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// loaded reports whether the page has finished loading, so that what
// follows (a screenshot, say) sees it laid out. DevTools evaluates this
// even where page scripts are off.
func (tab *Tab) loaded() bool {
	state, err := chromedp.Run(tab.ctx, chromedp.Evaluate[string]("document.readyState"))
	return err == nil && state == "complete"
}

// act runs a in the tab's own context, giving up after patience: a
// selector that matches nothing waits for ever otherwise. (The tab is
// closed when the test ends, which ends the action too.)
func (tab *Tab) act(a chromedp.Action[chromedp.Void]) error {
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(tab.ctx, a) }()
	select {
	case err := <-done:
		return err
	case <-time.After(patience):
		return fmt.Errorf("nothing happened in %v (does the selector match?)", patience)
	}
}
