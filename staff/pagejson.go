package staff

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
)

// An items page is megabytes of base64. encoding/json encodes it through
// reflection into a buffer it grows step by step: half a CPU-second of the
// server's for a sync of 10,000 reports. AppendJSON writes the same bytes
// into one buffer of the right size.

// AppendJSON appends r to b exactly as json.Marshal encodes it.
func (r *ItemsResponse) AppendJSON(b []byte) []byte {
	n := len(b) + 64 + len(r.Next)
	for _, it := range r.Items {
		n += 80 + len(it.ID) + len(it.Thread) + len(it.Route) + len(it.Kind) + len(it.Day) +
			base64.StdEncoding.EncodedLen(len(it.Sealed))
	}
	if cap(b) < n {
		b = append(make([]byte, 0, n), b...)
	}
	b = append(b, `{"items":`...)
	if r.Items == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range r.Items {
			if i > 0 {
				b = append(b, ',')
			}
			b = r.Items[i].appendJSON(b)
		}
		b = append(b, ']')
	}
	b = append(b, `,"more":`...)
	b = strconv.AppendBool(b, r.More)
	if r.Next != "" {
		b = append(b, `,"next":`...)
		b = appendString(b, r.Next)
	}
	if r.Undeliverable != 0 {
		b = append(b, `,"undeliverable":`...)
		b = strconv.AppendInt(b, int64(r.Undeliverable), 10)
	}
	return append(b, '}')
}

func (it *Item) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, it.ID)
	b = append(b, `,"thread":`...)
	b = appendString(b, it.Thread)
	b = append(b, `,"route":`...)
	b = appendString(b, it.Route)
	b = append(b, `,"kind":`...)
	b = appendString(b, string(it.Kind))
	b = append(b, `,"day":`...)
	b = appendString(b, it.Day)
	b = append(b, `,"sealed":`...)
	if it.Sealed == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, it.Sealed)
		b = append(b, '"')
	}
	return append(b, '}')
}

// appendString appends s as a JSON string. The fields of an item are ids,
// route names, kinds and days, printable ASCII that needs no escape; the
// rare other string goes through encoding/json, so that its escapes are
// encoding/json's own.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
