package cases

import (
	"bytes"
	"errors"
	"sort"

	"github.com/hearken-project/hearken/vault"
	bolt "go.etcd.io/bbolt"
)

// outgoing is a reply waiting to be pushed.
type outgoing struct {
	ID, Thread string
	Sealed     []byte
	legacy     bool // written before replies were signed
}

// outbox lists the replies waiting to be pushed in the order they were
// written (the bucket is keyed by random id, so it is sorted here).
func (s *Store) outbox() ([]outgoing, error) {
	var out []outgoing
	var order []uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		ib, sb := tx.Bucket(bItems), tx.Bucket(bSealed)
		return tx.Bucket(bOutbox).ForEach(func(k, v []byte) error {
			var m itemMeta
			if err := getJSON(ib, k, &m); err != nil {
				return err
			}
			out = append(out, outgoing{ID: m.ID, Thread: m.Thread, Sealed: bytes.Clone(sb.Get(be(m.Order))), legacy: m.Legacy})
			order = append(order, m.Order)
			return nil
		})
	})
	idx := make([]int, len(out))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return order[idx[a]] < order[idx[b]] })
	sorted := make([]outgoing, len(out))
	for i, j := range idx {
		sorted[i] = out[j]
	}
	return sorted, err
}

// queueReply stores a reply written here and queues it for the next sync,
// in one transaction.
func (s *Store) queueReply(thread, id string, sealed []byte) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		var c caseRec
		if err := getJSON(tx.Bucket(bThreads), []byte(thread), &c); err != nil {
			return err
		}
		if tx.Bucket(bItems).Get([]byte(id)) != nil {
			return errors.New("reply id already used")
		}
		m := itemMeta{ID: id, Thread: thread, Route: c.Route, Kind: vault.KindReply,
			Day: s.today(), Mine: true}
		if err := putItem(tx, m, sealed); err != nil {
			return err
		}
		if err := tx.Bucket(bOutbox).Put([]byte(id), []byte(thread)); err != nil {
			return err
		}
		return s.refreshDigest(tx, thread, nil)
	})
}

// markSent records that the server holds reply id, and takes it out of the
// outbox. failed, if set, says why the server will never take it.
func (s *Store) markSent(id string, failed string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		ib := tx.Bucket(bItems)
		var m itemMeta
		if err := getJSON(ib, []byte(id), &m); err != nil {
			return err
		}
		switch {
		case failed != "" && m.Sent:
			// The server already holds it (its copy came back, or an
			// earlier push was confirmed): it was delivered.
		case failed != "":
			m.Failed = failed
		default:
			m.Sent, m.Failed = true, ""
		}
		if err := putJSON(ib, []byte(id), m); err != nil {
			return err
		}
		if err := tx.Bucket(bOutbox).Delete([]byte(id)); err != nil {
			return err
		}
		return s.refreshDigest(tx, m.Thread, nil)
	})
}

// toAck lists the ids of stored items not yet acknowledged to the server.
func (s *Store) toAck() ([]string, error) {
	var ids []string
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bToAck).ForEach(func(k, _ []byte) error {
			ids = append(ids, string(k))
			return nil
		})
	})
	return ids, err
}

// forgetAcks removes ids from the list of items to acknowledge.
func (s *Store) forgetAcks(ids []string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bToAck)
		for _, id := range ids {
			if err := b.Delete([]byte(id)); err != nil {
				return err
			}
		}
		return nil
	})
}

// waitingReplies counts the replies written here that wait to be sent (0
// if the store cannot say).
func (s *Store) waitingReplies() int {
	n := 0
	s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bOutbox).Stats().KeyN
		return nil
	})
	return n
}

// waitingEvents counts the team events written here that wait to be sent
// (0 if the store cannot say).
func (s *Store) waitingEvents() int {
	n := 0
	s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bEventOut).Stats().KeyN
		return nil
	})
	return n
}
