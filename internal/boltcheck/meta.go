package boltcheck

import (
	"encoding/binary"
	"errors"
	"hash/fnv"
	"io"
)

// bbolt's on-disk layout (go.etcd.io/bbolt v1.5, internal/common): every
// page starts with a 16-byte header, and pages 0 and 1 hold a meta record
// each, in the machine's byte order. A commit writes its meta record last,
// to page txid%2, so the two pages hold the newest commit and the one before.
const (
	magic          = 0xED0CDAED
	formatVersion  = 2
	pageHeaderSize = 16
	metaSize       = 64 // up to and including the checksum
	sumSize        = 56 // the checksum covers the meta record before it
	noFreelist     = ^uint64(0)

	flagBranch   = 0x01
	flagLeaf     = 0x02
	flagFreelist = 0x10
	flagBucket   = 0x01 // on a leaf element: the value is a bucket

	// Page sizes bbolt accepts. It tries 1 KiB to 16 MiB when it has to
	// look for the second meta page; so do we.
	minPageSize = 1 << 10
	maxPageSize = 1 << 24
)

var order = binary.NativeEndian

// meta is one decoded meta record.
type meta struct {
	magic, version, pageSize uint32
	root                     uint64 // the root bucket's page
	freelist, pgid, txid     uint64 // pgid is the high-water mark: pages in use
	checksum                 uint64
	raw                      [metaSize]byte
}

func decodeMeta(page []byte) meta {
	var m meta
	copy(m.raw[:], page[pageHeaderSize:])
	b := m.raw[:]
	m.magic = order.Uint32(b[0:])
	m.version = order.Uint32(b[4:])
	m.pageSize = order.Uint32(b[8:])
	m.root = order.Uint64(b[16:])
	m.freelist = order.Uint64(b[32:])
	m.pgid = order.Uint64(b[40:])
	m.txid = order.Uint64(b[48:])
	m.checksum = order.Uint64(b[56:])
	return m
}

func (m *meta) sum() uint64 {
	h := fnv.New64a()
	h.Write(m.raw[:sumSize])
	return h.Sum64()
}

// valid is bbolt's own test of a meta record, plus the sanity its fields
// need before anything is read through them.
func (m *meta) valid() bool {
	return m.magic == magic && m.version == formatVersion && m.checksum == m.sum() &&
		m.pageSize >= minPageSize && m.pageSize <= maxPageSize && m.pageSize&(m.pageSize-1) == 0 &&
		m.pgid >= 2 && m.root < m.pgid && (m.freelist == noFreelist || m.freelist < m.pgid)
}

// withTxid reports whether the record would be valid had its txid been
// txid: a newer record whose damage is a flipped bit in the txid itself.
func (m *meta) withTxid(txid uint64) bool {
	c := *m
	order.PutUint64(c.raw[48:], txid)
	c.txid = txid
	return c.valid()
}

// metas is what the two meta pages say.
type metas struct {
	use meta // the record bbolt will open the file at
	// rolledBack is set when the other record is damaged and may have been
	// the newer one: bbolt would silently open the commit before it.
	rolledBack bool
	// olderDamaged is set when the other record is damaged but is surely
	// the older one: nothing is lost, and the next commit rewrites it.
	olderDamaged bool
}

var errNoMeta = errors.New("neither of its two meta pages is readable: it is not a bbolt file, or its first pages are destroyed")

// readMetas reads both meta pages and decides which one bbolt will use.
func readMetas(r io.ReaderAt, size int64) (metas, error) {
	buf := make([]byte, pageHeaderSize+metaSize)
	read := func(off int64) (meta, bool) {
		if off+int64(len(buf)) > size {
			return meta{}, false
		}
		if _, err := r.ReadAt(buf, off); err != nil {
			return meta{}, false
		}
		return decodeMeta(buf), true
	}
	m0, _ := read(0)
	var m1 meta
	if m0.valid() {
		m1, _ = read(int64(m0.pageSize))
	} else {
		// Like bbolt: without page 0 the page size is unknown, so look for
		// page 1 at every size it could be.
		for ps := int64(minPageSize); ps <= maxPageSize && ps < size; ps <<= 1 {
			if m, ok := read(ps); ok && m.valid() && int64(m.pageSize) == ps {
				m1 = m
				break
			}
		}
	}
	switch {
	case m0.valid() && m1.valid():
		if m1.txid > m0.txid {
			return metas{use: m1}, nil
		}
		return metas{use: m0}, nil
	case m0.valid():
		return oneMeta(m0, m1), nil
	case m1.valid():
		return oneMeta(m1, m0), nil
	}
	return metas{}, errNoMeta
}

// oneMeta decides what a single damaged meta record means. Both records
// are always written (bbolt makes a new file with two), so the damaged one
// is either the commit before good or the one after it. Only when it still
// reads as the one before, and does not turn valid as the one after, is it
// surely the older; anything else may be a lost commit.
func oneMeta(good, bad meta) metas {
	older := bad.magic == magic && bad.version == formatVersion && bad.pageSize == good.pageSize &&
		bad.txid+1 == good.txid && !bad.withTxid(good.txid+1)
	return metas{use: good, olderDamaged: older, rolledBack: !older}
}
