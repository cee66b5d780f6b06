package desk

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/hearken-project/hearken/reviewer/cases"
	"github.com/hearken-project/hearken/vault"
)

// caseCache keeps, in memory only and only while the desk is unlocked,
// the decrypted case list and the words of every case for search. No
// index is ever written to disk. Locking drops it.
type caseCache struct {
	mu   sync.Mutex
	list []cases.CaseSummary // nil when it must be read again
	day  string              // the day list was read: waiting times count days
	text map[string]caseText // by case number
	// teams are the team files replies are sealed to, by route: reading
	// one means listing every case's route.
	teams map[string]teamOrError
}

type teamOrError struct {
	team *vault.Team
	err  error
}

// team returns cases.TeamFor(route), kept until the next change.
func (c *caseCache) team(st *cases.Store, route string) (*vault.Team, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.teams[route]; ok {
		return t.team, t.err
	}
	team, err := st.TeamFor(route)
	if c.teams == nil {
		c.teams = map[string]teamOrError{}
	}
	c.teams[route] = teamOrError{team, err}
	return team, err
}

// caseText is a case's words, lower-cased for search, with the state of
// the case they were read from.
type caseText struct {
	key  string
	text string
}

func newCaseCache() *caseCache { return &caseCache{text: map[string]caseText{}} }

// cases returns every case, most pressing first, as cases.List orders
// them, reading the store only when something changed or the day did.
func (c *caseCache) cases(st *cases.Store, now time.Time) ([]cases.CaseSummary, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	day := vault.Today(now)
	if c.list != nil && c.day == day {
		return c.list, nil
	}
	list, err := st.List()
	if err != nil {
		return nil, err
	}
	if list == nil {
		list = []cases.CaseSummary{}
	}
	c.list, c.day = list, day
	return list, nil
}

// changed marks the list to be read again after a write or a sync.
func (c *caseCache) changed() {
	c.mu.Lock()
	c.list, c.teams = nil, nil
	c.mu.Unlock()
}

// updated puts case n, just changed here, back in the kept list in its
// new place, reading that case alone rather than every case again.
func (c *caseCache) updated(st *cases.Store, n uint64) {
	cv, err := st.Show(n)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.list == nil {
		return
	}
	if err != nil {
		c.list = nil
		return
	}
	for i := range c.list {
		if c.list[i].Case == cv.Case {
			c.list[i] = cv.CaseSummary
			cases.SortCases(c.list)
			return
		}
	}
	c.list = nil
}

// forget drops the words kept for one case (a note was added).
func (c *caseCache) forget(caseID string) {
	c.mu.Lock()
	delete(c.text, caseID)
	c.mu.Unlock()
}

// drop forgets everything.
func (c *caseCache) drop() {
	c.mu.Lock()
	c.list, c.text, c.teams = nil, nil, nil
	c.mu.Unlock()
}

// textKey is what a case's words depend on as far as the summary shows:
// when it changes, the words are read again.
func textKey(cs cases.CaseSummary) string {
	return fmt.Sprintf("%d|%d|%s|%d|%s|%s|%s|%s", cs.Messages, cs.Queued, cs.LastMessage, cs.Problems, cs.Status, cs.Category, cs.Urgency, cs.Assigned)
}

// matching returns the cases of list whose words contain every word of
// query, ignoring case. Words not yet in memory are read (decrypted) on
// all CPUs first.
func (c *caseCache) matching(st *cases.Store, list []cases.CaseSummary, query string) (map[string]bool, error) {
	words := strings.Fields(strings.ToLower(query))
	c.mu.Lock()
	if c.text == nil {
		c.text = map[string]caseText{}
	}
	var todo []cases.CaseSummary
	for _, cs := range list {
		if t, ok := c.text[cs.Case]; !ok || t.key != textKey(cs) {
			todo = append(todo, cs)
		}
	}
	c.mu.Unlock()
	read := make([]caseText, len(todo))
	errs := make([]error, len(todo))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				read[i], errs[i] = readText(st, todo[i])
			}
		}()
	}
	for i := range todo {
		next <- i
	}
	close(next)
	wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.text == nil { // locked meanwhile
		return nil, errLocked
	}
	for i, cs := range todo {
		if errs[i] != nil {
			return nil, errs[i]
		}
		c.text[cs.Case] = read[i]
	}
	found := map[string]bool{}
	for _, cs := range list {
		t := c.text[cs.Case].text
		ok := true
		for _, w := range words {
			if !strings.Contains(t, w) {
				ok = false
				break
			}
		}
		if ok {
			found[cs.Case] = true
		}
	}
	return found, nil
}

// readText opens one case and gathers its words: every field of every
// message, attachment names, authors and the chronology.
func readText(st *cases.Store, cs cases.CaseSummary) (caseText, error) {
	n, err := cases.ParseCaseNumber(cs.Case)
	if err != nil {
		return caseText{}, err
	}
	cv, err := st.Show(n)
	if err != nil {
		return caseText{}, err
	}
	var b strings.Builder
	add := func(s ...string) {
		for _, x := range s {
			b.WriteString(x)
			b.WriteByte('\n')
		}
	}
	add(cv.Case, "#"+cv.Tag, cv.Route, cv.Status, cv.Category, cv.Urgency, cv.Assigned)
	for _, m := range cv.Messages {
		add(m.Author)
		for _, f := range m.Fields {
			add(f.Value)
		}
		for _, a := range m.Attachments {
			add(a.Name)
		}
	}
	for _, l := range cv.Chronology {
		add(l.Who, l.What, l.Text)
	}
	return caseText{key: textKey(cs), text: strings.ToLower(b.String())}, nil
}
