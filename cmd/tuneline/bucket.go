package main

import (
	"context"
	"io"
	"os"
	"path"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/internal/bucket"
)

// bucketOutput writes an output whose path is a gs:// or s3:// object: to
// a local temporary file first, uploaded in one piece when committed, so
// that the object appears whole or not at all (and a failed run leaves the
// previous one in place).
func bucketOutput(u string) (io.Writer, func() error, func(), error) {
	if _, _, _, err := bucket.Parse(u); err != nil {
		return nil, nil, nil, usageErr("%v", err)
	}
	dir, err := os.MkdirTemp("", "tuneline-upload-")
	if err != nil {
		return nil, nil, nil, err
	}
	f, err := datasets.CreateAtomic(dir + "/" + path.Base(u))
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, nil, err
	}
	commit := func() error {
		defer os.RemoveAll(dir)
		if err := f.Commit(); err != nil {
			return err
		}
		r, err := os.Open(f.Path())
		if err != nil {
			return err
		}
		defer r.Close()
		return bucket.Put(context.Background(), u, r)
	}
	abort := func() {
		f.Abort()
		os.RemoveAll(dir)
	}
	return f, commit, abort, nil
}
