package boltcheck

import (
	"fmt"
	"io"
)

const (
	elemSize = 16 // branch and leaf elements are both 16 bytes
	// maxDepth bounds the walk: tree levels and nested buckets together.
	// Every page of a B+tree holds at least two keys, so 64 levels would
	// hold 2^64 pages; Hearken's stores nest buckets three deep.
	maxDepth = 64
	// maxFreelist bounds the free page list read into memory: 2^27 pages
	// is 512 GiB of 4 KiB pages.
	maxFreelist = 1 << 27
)

// walker checks every page reachable from a meta record with plain reads,
// validating each page number and offset before it is followed, so that a
// damaged file can never make it read out of bounds or go round a cycle.
type walker struct {
	r        io.ReaderAt
	pageSize int64
	hwm      uint64 // pages below this are in use or free
	seen     []uint64
}

// damage is one finding, worded for a log: page numbers only, never keys
// or values.
func damage(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrDamaged}, args...)...)
}

func walk(r io.ReaderAt, m meta) error {
	w := &walker{r: r, pageSize: int64(m.pageSize), hwm: m.pgid, seen: make([]uint64, (m.pgid+63)/64)}
	w.mark(0, 0)
	w.mark(1, 0)
	if m.freelist != noFreelist {
		if err := w.freelist(m.freelist); err != nil {
			return err
		}
	}
	return w.tree(m.root, 0)
}

// header reads page id's header and reserves the pages it spans.
func (w *walker) header(id uint64) (flags, count uint16, extent int64, err error) {
	if id < 2 || id >= w.hwm {
		return 0, 0, 0, damage("a reference to page %d, outside the %d pages in use", id, w.hwm)
	}
	var h [pageHeaderSize]byte
	if _, err := w.r.ReadAt(h[:], int64(id)*w.pageSize); err != nil {
		return 0, 0, 0, damage("page %d cannot be read: %v", id, err)
	}
	if got := order.Uint64(h[0:]); got != id {
		return 0, 0, 0, damage("page %d says it is page %d", id, got)
	}
	flags, count = order.Uint16(h[8:]), order.Uint16(h[10:])
	overflow := uint64(order.Uint32(h[12:]))
	if overflow >= w.hwm-id {
		return 0, 0, 0, damage("page %d runs past the pages in use", id)
	}
	if !w.mark(id, overflow) {
		return 0, 0, 0, damage("page %d is used twice", id)
	}
	return flags, count, int64(overflow+1) * w.pageSize, nil
}

// mark records pages id..id+overflow as used; false if one already was.
func (w *walker) mark(id, overflow uint64) bool {
	for p := id; p <= id+overflow; p++ {
		bit := uint64(1) << (p % 64)
		if w.seen[p/64]&bit != 0 {
			return false
		}
		w.seen[p/64] |= bit
	}
	return true
}

func (w *walker) read(id uint64, off, n int64) ([]byte, error) {
	b := make([]byte, n)
	if _, err := w.r.ReadAt(b, int64(id)*w.pageSize+off); err != nil {
		return nil, damage("page %d cannot be read: %v", id, err)
	}
	return b, nil
}

func (w *walker) freelist(id uint64) error {
	flags, count, extent, err := w.header(id)
	if err != nil {
		return err
	}
	if flags != flagFreelist {
		return damage("page %d should hold the free page list but does not", id)
	}
	start, n := int64(pageHeaderSize), int64(count)
	if count == 0xFFFF { // the real count is the first element
		b, err := w.read(id, start, 8)
		if err != nil {
			return err
		}
		start, n = start+8, int64(min(order.Uint64(b), maxFreelist+1))
	}
	if n > maxFreelist || start+n*8 > extent {
		return damage("the free page list on page %d runs past its end", id)
	}
	b, err := w.read(id, start, n*8)
	if err != nil {
		return err
	}
	for i := range n {
		if p := order.Uint64(b[i*8:]); p < 2 || p >= w.hwm {
			return damage("the free page list on page %d names page %d, outside the pages in use", id, p)
		}
	}
	return nil
}

// tree checks the B+tree under page id, and every bucket stored in it.
func (w *walker) tree(id uint64, depth int) error {
	if depth > maxDepth {
		return damage("the tree under page %d is deeper than any real one", id)
	}
	flags, count, extent, err := w.header(id)
	if err != nil {
		return err
	}
	switch flags {
	case flagBranch:
		if count == 0 {
			return damage("branch page %d is empty", id)
		}
		elems, err := w.elements(id, count, extent)
		if err != nil {
			return err
		}
		for i := range int64(count) {
			e := elems[i*elemSize:]
			pos, ksize := int64(order.Uint32(e[0:])), int64(order.Uint32(e[4:]))
			if ksize == 0 || pageHeaderSize+i*elemSize+pos+ksize > extent {
				return damage("key %d on branch page %d lies outside the page", i, id)
			}
			if err := w.tree(order.Uint64(e[8:]), depth+1); err != nil {
				return err
			}
		}
		return nil
	case flagLeaf:
		elems, err := w.elements(id, count, extent)
		if err != nil {
			return err
		}
		return w.leaf(id, elems, count, extent, depth, func(off, n int64) ([]byte, error) {
			return w.read(id, off, n)
		})
	}
	return damage("page %d should be part of the tree but has type %#x", id, flags)
}

func (w *walker) elements(id uint64, count uint16, extent int64) ([]byte, error) {
	n := int64(count) * elemSize
	if pageHeaderSize+n > extent {
		return nil, damage("page %d claims more entries than fit on it", id)
	}
	return w.read(id, pageHeaderSize, n)
}

// leaf checks a leaf's entries and follows those that are buckets. read
// fetches bytes of the leaf by offset: from the file for a page, from
// memory for a bucket stored inline in its parent.
func (w *walker) leaf(id uint64, elems []byte, count uint16, extent int64, depth int, read func(off, n int64) ([]byte, error)) error {
	for i := range int64(count) {
		e := elems[i*elemSize:]
		flags := order.Uint32(e[0:])
		pos, ksize, vsize := int64(order.Uint32(e[4:])), int64(order.Uint32(e[8:])), int64(order.Uint32(e[12:]))
		off := pageHeaderSize + i*elemSize + pos
		if ksize == 0 || flags&^flagBucket != 0 || off+ksize+vsize > extent {
			return damage("entry %d on leaf page %d lies outside the page", i, id)
		}
		if flags&flagBucket == 0 {
			continue
		}
		if vsize < 16 {
			return damage("bucket %d on leaf page %d is cut short", i, id)
		}
		v, err := read(off+ksize, vsize)
		if err != nil {
			return err
		}
		if root := order.Uint64(v); root != 0 {
			if err := w.tree(root, depth+1); err != nil {
				return err
			}
			continue
		}
		if err := w.inline(id, v[16:], depth+1); err != nil {
			return err
		}
	}
	return nil
}

// inline checks a small bucket stored whole inside its parent's value: a
// leaf page of its own, without a page number.
func (w *walker) inline(parent uint64, p []byte, depth int) error {
	if depth > maxDepth {
		return damage("buckets nest deeper under page %d than any real ones", parent)
	}
	if len(p) < pageHeaderSize || order.Uint16(p[8:]) != flagLeaf {
		return damage("a bucket stored on page %d is damaged", parent)
	}
	count := order.Uint16(p[10:])
	n := int64(count) * elemSize
	if pageHeaderSize+n > int64(len(p)) {
		return damage("a bucket stored on page %d claims more entries than it holds", parent)
	}
	return w.leaf(parent, p[pageHeaderSize:pageHeaderSize+n], count, int64(len(p)), depth, func(off, n int64) ([]byte, error) {
		return p[off : off+n], nil
	})
}
