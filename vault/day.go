package vault

import "time"

// dayLayout is the only form of date the vault keeps: a calendar day in UTC.
// Anything more precise could help match a report to a person's movements.
const dayLayout = "2006-01-02"

// Today returns now as a calendar day in UTC.
func Today(now time.Time) string {
	return now.UTC().Format(dayLayout)
}

// daysBetween returns how many whole days lie between two calendar days, or
// -1 if either cannot be parsed.
func daysBetween(from, to string) int {
	a, err1 := time.Parse(dayLayout, from)
	b, err2 := time.Parse(dayLayout, to)
	if err1 != nil || err2 != nil {
		return -1
	}
	return int(b.Sub(a).Hours() / 24)
}
