package vault

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// replyFixture makes a thread and returns its receipt, its id and the
// recipients a team reply is sealed to (the team and the thread's reply key).
func replyFixture(t *testing.T, s *Store) (Receipt, string, []*Member, *Team, []string) {
	t.Helper()
	ms, team := testTeam(t, 1)
	r, err := s.CreateThread("safeguarding", report("please help"), team.Recipients())
	if err != nil {
		t.Fatal(err)
	}
	ti, _ := s.Thread(r)
	items, _, _ := s.Pending("", 100, nil, "")
	for _, it := range items {
		if it.Thread == ti.ID {
			rep, err := Open(it.Sealed, ms[0].Identity())
			if err != nil {
				t.Fatal(err)
			}
			return r, ti.ID, ms, team, []string{rep.ReplyTo}
		}
	}
	t.Fatal("the new thread's report is not in the queue")
	return Receipt{}, "", nil, nil, nil
}

func sealReply(t *testing.T, msg string, team *Team, replyTo ...string) []byte {
	t.Helper()
	rcpts := team.Recipients()
	for _, s := range replyTo {
		r, err := parseHybridRecipient(s)
		if err != nil {
			t.Fatal(err)
		}
		rcpts = append(rcpts, r)
	}
	sealed, err := Seal(&Envelope{Kind: KindReply, Day: "2026-11-27", Author: "Lead 1", Fields: []Field{{"message", msg}}}, rcpts...)
	if err != nil {
		t.Fatal(err)
	}
	return sealed
}

// A reply the server is asked to keep is refused, with nothing stored,
// when it names no thread, has a malformed id, is too large, is not an age
// file, or takes an item id that belongs to another thread (a member
// cannot use one thread's reply to overwrite or shadow another's).
func TestAddReplyRefuses(t *testing.T) {
	s, _ := openTest(t, nil)
	r, tid, _, team, replyTo := replyFixture(t, s)
	r2, tid2, _, _, _ := replyFixture(t, s)
	sealed := sealReply(t, "we are here", team, replyTo...)
	used := uuid.NewString()
	if _, err := s.AddReply(tid, used, sealed); err != nil {
		t.Fatal(err)
	}
	before, _, _ := s.Pending("", 100, nil, "")

	tests := []struct {
		name          string
		thread, item  string
		sealed        []byte
		want          error
		wantSubstring string
	}{
		{"thread id not a uuid", "not-a-thread", uuid.NewString(), sealed, ErrNotFound, ""},
		{"thread id upper case braces", "{" + strings.ToUpper(tid) + "}", uuid.NewString(), sealed, ErrNotFound, ""},
		{"item id not a uuid", tid, "reply-1", sealed, nil, "invalid item id"},
		{"too large", tid, uuid.NewString(), append([]byte(ageMagic), make([]byte, MaxReplySize)...), ErrTooLarge, ""},
		{"not age", tid, uuid.NewString(), []byte("dear reporter, in plain text"), ErrMalformed, ""},
		{"item id of another thread", tid2, used, sealed, ErrItemIDUsed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.AddReply(tt.thread, tt.item, tt.sealed)
			if err == nil || tt.want != nil && !errors.Is(err, tt.want) || tt.wantSubstring != "" && !strings.Contains(err.Error(), tt.wantSubstring) {
				t.Fatalf("got %v, want %v %q", err, tt.want, tt.wantSubstring)
			}
		})
	}
	after, _, _ := s.Pending("", 100, nil, "")
	if len(after) != len(before) {
		t.Fatalf("refused replies changed the queue: %d items, were %d", len(after), len(before))
	}
	if ti, _ := s.Thread(r2); ti.RepliesWaiting {
		t.Fatal("a refused reply marked the other thread as having replies")
	}
	if got, _, err := s.Replies(r); err != nil || len(got) != 1 || got[0].Field("message") != "we are here" {
		t.Fatalf("the first thread's replies: %d, %v", len(got), err)
	}
	if got, _, err := s.Replies(r2); err != nil || len(got) != 0 {
		t.Fatalf("the other thread's replies: %d, %v", len(got), err)
	}
	if _, err := s.ThreadRoute("../" + tid); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ThreadRoute of a malformed id: %v", err)
	}
}

// The reporter sees, in the order the team wrote them, only the replies
// sealed to their thread's reply key: a reply a member sealed to the team
// alone, or to another thread's key, or an envelope that is not a reply, is
// never shown (and never breaks the page).
func TestRepliesOnlyWhatTheReporterCanOpen(t *testing.T) {
	s, _ := openTest(t, nil)
	r, tid, _, team, replyTo := replyFixture(t, s)
	_, _, _, _, otherReplyTo := replyFixture(t, s)
	add := func(sealed []byte) {
		t.Helper()
		if _, err := s.AddReply(tid, uuid.NewString(), sealed); err != nil {
			t.Fatal(err)
		}
	}
	var want []string
	for i := range 6 {
		msg := fmt.Sprintf("reply %d", i+1)
		add(sealReply(t, msg, team, replyTo...))
		want = append(want, msg)
		switch i {
		case 1:
			add(sealReply(t, "team only", team))
		case 3:
			add(sealReply(t, "for another thread", team, otherReplyTo...))
		case 4:
			rcpt, _ := parseHybridRecipient(replyTo[0])
			note, err := Seal(&Envelope{Kind: KindNote, Fields: []Field{{"message", "a note"}}}, rcpt)
			if err != nil {
				t.Fatal(err)
			}
			add(note)
		}
	}
	got, ti, err := s.Replies(r)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, e := range got {
		msgs = append(msgs, e.Field("message"))
	}
	if strings.Join(msgs, ",") != strings.Join(want, ",") {
		t.Fatalf("the reporter saw %q, want %q", msgs, want)
	}
	if !ti.RepliesWaiting {
		t.Fatal("the visit's info does not say replies were waiting")
	}
	if ti, _ := s.Thread(r); ti.RepliesWaiting {
		t.Fatal("reading the replies did not mark them seen")
	}
}

// Acknowledgements of ids that are malformed, unknown or of a route the
// member is not on answer ErrNotFound each, and the others in the same
// page still count.
func TestAckManyPerItemErrors(t *testing.T) {
	s, _ := openTest(t, nil)
	replyFixture(t, s)
	items, _, _ := s.Pending("", 10, nil, "")
	team := func(string) []string { return []string{"lead"} }
	errs, err := s.AckMany([]string{"not-an-id", uuid.NewString(), items[0].ID}, "lead", []string{"head"}, team)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range errs {
		if !errors.Is(e, ErrNotFound) {
			t.Errorf("item %d of another route: %v", i, e)
		}
	}
	if left, _, _ := s.Pending("", 10, nil, ""); len(left) != 1 {
		t.Fatal("an acknowledgement for another route took the item out of the queue")
	}
	errs, err = s.AckMany([]string{"not-an-id", items[0].ID}, "lead", nil, team)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(errs[0], ErrNotFound) || errs[1] != nil {
		t.Fatalf("errors %v", errs)
	}
	if left, _, _ := s.Pending("", 10, nil, ""); len(left) != 0 {
		t.Fatal("the acknowledged item is still queued")
	}
}
