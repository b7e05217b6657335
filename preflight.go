package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// checkDBDir explains, as a config error (exit 2), a database path whose
// directory is missing or not writable: nothing will fix it but the
// operator, so a service manager should not keep restarting trustbot.
// SQLite needs the directory, not only the file: it keeps the database's
// -wal and -shm files beside it.
func checkDBDir(path string) error {
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return configErrorf("storage.path: the directory %s of %s does not exist: create it, owned by the user trustbot runs as, or point storage.path into an existing directory", dir, path)
	case err != nil:
		return configErrorf("storage.path: %s: %v", path, err)
	case !fi.IsDir():
		return configErrorf("storage.path: %s: %s is not a directory", path, dir)
	}
	f, err := os.CreateTemp(dir, ".trustbot-probe-*")
	if err != nil {
		return configErrorf("storage.path: the directory %s of %s is not writable by this user, and SQLite keeps the database's -wal and -shm files beside it: make it writable (e.g. chown it to the user trustbot runs as) or move the database (%v)", dir, path, errors.Unwrap(err))
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}
