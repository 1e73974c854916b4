package bolt

// LocalJSON reads node-local state kept under key in the local bucket
// (never replicated, not in backups' views): false when there is none.
func (s *Store) LocalJSON(key string, v any) (bool, error) {
	var ok bool
	err := s.Read(func(tx *Tx) error {
		var err error
		ok, err = tx.GetJSON(string(bucketLocal), key, v)
		return err
	})
	return ok, err
}

// SetLocalJSON keeps node-local state under key in the local bucket.
func (s *Store) SetLocalJSON(key string, v any) error {
	return s.Update(func(tx *Tx) error { return tx.PutJSON(string(bucketLocal), key, v) })
}
