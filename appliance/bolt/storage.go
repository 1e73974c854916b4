package bolt

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"go.etcd.io/bbolt"

	"gridbox/appliance"
)

// When the disk is full a write fails, and bbolt leaves the file as it was
// before the transaction: nothing stored is damaged. What the people at
// the box need is to be told, in words, and the box to say it is unwell:
// ErrStorageFull, StorageFull for /healthz and /metrics.

// ErrStorageFull is returned for a write that found no room on the disk.
var ErrStorageFull = appliance.Errorf(appliance.ESTORAGE, "存储空间已满，刚才的内容没有保存。请联系管理员清理存储空间（已保存的数据不受影响）")

// isNoSpace reports a write failed for lack of room: the disk (or a quota)
// is full, or the file may not grow (a file size limit).
func isNoSpace(err error) bool {
	for _, e := range []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT, syscall.EFBIG} {
		// bbolt wraps some of them as text ("file resize error: %s").
		if errors.Is(err, e) || strings.Contains(err.Error(), e.Error()) {
			return true
		}
	}
	return false
}

// update runs a bbolt write transaction, telling a full disk apart.
func (s *Store) update(fn func(*bbolt.Tx) error) error {
	err := s.db.Update(fn)
	switch {
	case err == nil:
		s.noSpace.Store(0)
	case isNoSpace(err):
		s.noSpace.Store(time.Now().Unix())
		return ErrStorageFull
	}
	return err
}

// StorageFull reports whether the last write failed for lack of room and
// none has succeeded since.
func (s *Store) StorageFull() bool { return s.noSpace.Load() != 0 }

// DiskFree returns the bytes free for the data file's folder.
func (s *Store) DiskFree() (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(filepath.Dir(s.path), &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
}
