package memory

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"time"
)

// The on-disk layout of a bbolt file (go.etcd.io/bbolt/internal/common),
// which checkFile walks before bbolt maps the file: bbolt trusts every page
// id, count and offset it reads, so a damaged file made it index out of
// range, fail its page assertions, read past its mapping (SIGSEGV, which no
// recover catches) or descend a page cycle until memory ran out.
const (
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	pageHeaderSize   = 16 // id uint64, flags uint16, count uint16, overflow uint32
	elemSize         = 16 // leaf: flags, pos, ksize, vsize uint32; branch: pos, ksize uint32, pgid uint64
	metaChecksumAt   = 56 // the meta's FNV-1a 64 covers its first 56 bytes
	branchFlag       = 0x01
	leafFlag         = 0x02
	metaFlag         = 0x04
	freelistFlag     = 0x10
	bucketLeafFlag   = 0x01
	bucketHeaderSize = 16 // root pgid, sequence uint64
	noFreelist       = ^uint64(0)
	maxTreeDepth     = 64
)

// ErrDamaged is wrapped by the error of a memory.db that cannot be read.
var ErrDamaged = errors.New("memory.db is damaged")

type boltMeta struct {
	pageSize uint32
	root     uint64
	freelist uint64
	hwm      uint64 // pages in use: every page id is below it
	txid     uint64
}

func readMeta(page []byte) (boltMeta, bool) {
	if len(page) < pageHeaderSize+64 || binary.LittleEndian.Uint16(page[8:])&metaFlag == 0 {
		return boltMeta{}, false
	}
	m := page[pageHeaderSize:]
	h := fnv.New64a()
	h.Write(m[:metaChecksumAt])
	le := binary.LittleEndian
	if le.Uint32(m) != boltMagic || le.Uint32(m[4:]) != boltVersion || le.Uint64(m[metaChecksumAt:]) != h.Sum64() {
		return boltMeta{}, false
	}
	return boltMeta{pageSize: le.Uint32(m[8:]), root: le.Uint64(m[16:]), freelist: le.Uint64(m[32:]), hwm: le.Uint64(m[40:]), txid: le.Uint64(m[48:])}, true
}

// checkFile reads a bbolt file's meta pages, freelist and every page of
// every bucket's tree with ReadAt (no mapping), and tells whether bbolt can
// open and walk it: meta checksums, page ids within the file and below the
// high-water mark, each page reached once (no cycles), page types, element
// counts and key and value offsets within their page. It does not compare
// keys' order. A file that does not exist or is empty is fine (bbolt
// creates it).
func checkFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	// Another process's write under way would look like damage: wait for
	// its lock as bbolt does, then look at the file.
	if err := lockShared(f, 30*time.Second); err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() == 0 {
		return nil
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: it is not a regular file", ErrDamaged)
	}
	c := &checker{f: f, size: fi.Size(), seen: map[uint64]bool{}}
	return c.check()
}

type checker struct {
	f    io.ReaderAt
	size int64
	meta boltMeta
	seen map[uint64]bool
}

func (c *checker) check() error {
	var metas []boltMeta
	first := make([]byte, 4096)
	n, _ := c.f.ReadAt(first, 0)
	if m, ok := readMeta(first[:n]); ok {
		metas = append(metas, m)
	}
	ps := int64(os.Getpagesize())
	if len(metas) == 1 {
		ps = int64(metas[0].pageSize)
	}
	if ps < 512 || ps > 1<<16 || ps&(ps-1) != 0 {
		return fmt.Errorf("%w: page size %d", ErrDamaged, ps)
	}
	second := make([]byte, 4096)
	n, _ = c.f.ReadAt(second, ps)
	if m, ok := readMeta(second[:n]); ok {
		metas = append(metas, m)
	}
	if len(metas) == 0 {
		return fmt.Errorf("%w: neither meta page is valid", ErrDamaged)
	}
	c.meta = metas[0] // bbolt uses the valid meta of the higher transaction
	if len(metas) == 2 && metas[1].txid > metas[0].txid {
		c.meta = metas[1]
	}
	m := c.meta
	if int64(m.pageSize) != ps {
		return fmt.Errorf("%w: the meta pages disagree on the page size", ErrDamaged)
	}
	if m.hwm < 2 || m.hwm > uint64(c.size/ps) {
		return fmt.Errorf("%w: it claims %d pages, the file holds %d", ErrDamaged, m.hwm, c.size/ps)
	}
	if m.freelist != noFreelist {
		p, err := c.page(m.freelist, "the freelist")
		if err != nil {
			return err
		}
		if binary.LittleEndian.Uint16(p[8:]) != freelistFlag {
			return fmt.Errorf("%w: page %d is not the freelist", ErrDamaged, m.freelist)
		}
		count, at := uint64(binary.LittleEndian.Uint16(p[10:])), uint64(pageHeaderSize)
		if count == 0xFFFF {
			count, at = binary.LittleEndian.Uint64(p[pageHeaderSize:]), at+8
		}
		if count > uint64(len(p))/8 || at+count*8 > uint64(len(p)) {
			return fmt.Errorf("%w: the freelist claims %d pages", ErrDamaged, count)
		}
		for i := range count {
			if id := binary.LittleEndian.Uint64(p[at+8*i:]); id < 2 || id >= m.hwm {
				return fmt.Errorf("%w: the freelist holds page %d, outside 2-%d", ErrDamaged, id, m.hwm-1)
			}
		}
	}
	return c.tree(m.root, 0)
}

// page reads page id with its overflow pages, once.
func (c *checker) page(id uint64, what string) ([]byte, error) {
	ps := int64(c.meta.pageSize)
	if id < 2 || id >= c.meta.hwm {
		return nil, fmt.Errorf("%w: %s is page %d, outside 2-%d", ErrDamaged, what, id, c.meta.hwm-1)
	}
	if c.seen[id] {
		return nil, fmt.Errorf("%w: page %d is reached twice (%s)", ErrDamaged, id, what)
	}
	c.seen[id] = true
	hdr := make([]byte, pageHeaderSize)
	if _, err := c.f.ReadAt(hdr, int64(id)*ps); err != nil {
		return nil, fmt.Errorf("%w: page %d: %v", ErrDamaged, id, err)
	}
	if got := binary.LittleEndian.Uint64(hdr); got != id {
		return nil, fmt.Errorf("%w: page %d says it is page %d", ErrDamaged, id, got)
	}
	over := uint64(binary.LittleEndian.Uint32(hdr[12:]))
	if id+over >= c.meta.hwm {
		return nil, fmt.Errorf("%w: page %d runs %d pages past the last", ErrDamaged, id, id+over-c.meta.hwm+1)
	}
	for i := uint64(1); i <= over; i++ {
		if c.seen[id+i] {
			return nil, fmt.Errorf("%w: page %d overlaps page %d", ErrDamaged, id, id+i)
		}
		c.seen[id+i] = true
	}
	p := make([]byte, (1+int64(over))*ps)
	if _, err := c.f.ReadAt(p, int64(id)*ps); err != nil {
		return nil, fmt.Errorf("%w: page %d: %v", ErrDamaged, id, err)
	}
	return p, nil
}

// tree checks the pages of a bucket whose root is page id.
func (c *checker) tree(id uint64, depth int) error {
	if depth > maxTreeDepth {
		return fmt.Errorf("%w: buckets nest deeper than %d", ErrDamaged, maxTreeDepth)
	}
	p, err := c.page(id, "a bucket's page")
	if err != nil {
		return err
	}
	return c.nodes(p, id, depth)
}

// nodes checks one branch or leaf page (or an inline bucket's page, id 0)
// and what it leads to.
func (c *checker) nodes(p []byte, id uint64, depth int) error {
	le := binary.LittleEndian
	flags, count := le.Uint16(p[8:]), int(le.Uint16(p[10:]))
	if pageHeaderSize+count*elemSize > len(p) {
		return fmt.Errorf("%w: page %d claims %d elements", ErrDamaged, id, count)
	}
	within := func(at int, pos uint64, n uint32) bool {
		return uint64(at)+pos+uint64(n) <= uint64(len(p))
	}
	for i := range count {
		at := pageHeaderSize + i*elemSize
		e := p[at:]
		switch flags {
		case branchFlag:
			if id == 0 {
				return fmt.Errorf("%w: an inline bucket holds a branch", ErrDamaged)
			}
			if !within(at, uint64(le.Uint32(e)), le.Uint32(e[4:])) {
				return fmt.Errorf("%w: page %d: element %d's key is outside the page", ErrDamaged, id, i)
			}
			if err := c.tree(le.Uint64(e[8:]), depth+1); err != nil {
				return err
			}
		case leafFlag:
			pos, ks, vs := le.Uint32(e[4:]), le.Uint32(e[8:]), le.Uint32(e[12:])
			if !within(at, uint64(pos), ks) || !within(at, uint64(pos)+uint64(ks), vs) {
				return fmt.Errorf("%w: page %d: element %d is outside the page", ErrDamaged, id, i)
			}
			if le.Uint32(e)&bucketLeafFlag == 0 {
				continue
			}
			v := p[at+int(pos)+int(ks) : at+int(pos)+int(ks)+int(vs)]
			if len(v) < bucketHeaderSize {
				return fmt.Errorf("%w: page %d: element %d is a bucket too short to be one", ErrDamaged, id, i)
			}
			if root := le.Uint64(v); root != 0 {
				if err := c.tree(root, depth+1); err != nil {
					return err
				}
				continue
			}
			inline := v[bucketHeaderSize:]
			if len(inline) < pageHeaderSize || depth >= maxTreeDepth {
				return fmt.Errorf("%w: page %d: element %d is an inline bucket with no page", ErrDamaged, id, i)
			}
			if err := c.nodes(inline, 0, depth+1); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%w: page %d has type %#x, not a branch or leaf", ErrDamaged, id, flags)
		}
	}
	if flags != branchFlag && flags != leafFlag {
		return fmt.Errorf("%w: page %d has type %#x, not a branch or leaf", ErrDamaged, id, flags)
	}
	return nil
}
