package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/internal/bucket"
	"github.com/tuneline/tuneline/internal/testenv"
)

// Sources in a bucket (fake-gcs-server and gofakes3, in process on
// loopback): a prefix is a folder, every object under it is read with its
// gs:// or s3:// address as provenance and gives the chunks the same file
// gives locally; hidden objects and those outside the prefix are left
// out; the size budget holds; an object's version changes when it is
// rewritten (what incremental re-ingest keys on).
func TestBucketSources(t *testing.T) {
	for _, scheme := range []string{"gs", "s3"} {
		t.Run(scheme, func(t *testing.T) {
			testenv.Integration(t, "in-process bucket emulators")
			if scheme == "gs" {
				testenv.FakeGCS(t, "corpus")
			} else {
				testenv.FakeS3(t, "corpus")
			}
			bucket.Reset()
			ctx := context.Background()
			files := map[string]string{
				"books/glaciers.docx":     corpora + "office/glaciers.docx",
				"books/sub/sintel_en.srt": corpora + "subtitles/sintel/sintel_en.srt",
				"books/.hidden.md":        corpora + "office/source.md",
				"other/outside.md":        corpora + "office/source.md",
				"books/notes.md.gz":       "", // gzip of source.md
				"books/big/geotopo.pdf":   corpora + "pdf-geotopo/pdfs/GeoTopo-komprimiert.pdf",
			}
			for name, local := range files {
				var b []byte
				if local == "" {
					src, _ := os.ReadFile(corpora + "office/source.md")
					var z bytes.Buffer
					zw := gzip.NewWriter(&z)
					zw.Write(src)
					zw.Close()
					b = z.Bytes()
				} else {
					var err error
					if b, err = os.ReadFile(local); err != nil {
						t.Fatal(err)
					}
				}
				if err := bucket.Put(ctx, scheme+"://corpus/"+name, bytes.NewReader(b)); err != nil {
					t.Fatal(err)
				}
			}
			prefix := scheme + "://corpus/books/"
			sum, out := run(t, Options{MaxBytes: 1 << 20}, strings.TrimSuffix(prefix, "/"))
			var got []string
			for _, s := range sum.Sources {
				got = append(got, s.Source)
			}
			want := []string{prefix + "big/geotopo.pdf", prefix + "glaciers.docx", prefix + "notes.md.gz", prefix + "sub/sintel_en.srt"}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("sources %v, want %v", got, want)
			}
			if e := sum.Errors[prefix+"big/geotopo.pdf"]; !strings.Contains(e, "larger than 1 MB") {
				t.Errorf("the size budget: %q", e)
			}
			if sum.Documents != 3 {
				t.Errorf("%d documents, want 3: %v", sum.Documents, sum.Errors)
			}
			// The chunks of one object are those of the same file on disk,
			// with the bucket's address as their source.
			_, local := run(t, Options{}, corpora+"office/glaciers.docx")
			var fromBucket []Chunk
			for _, c := range out.chunks {
				if !strings.HasPrefix(c.Source, scheme+"://corpus/books/") {
					t.Errorf("chunk source %q", c.Source)
				}
				if c.Source == prefix+"glaciers.docx" {
					fromBucket = append(fromBucket, c)
				}
			}
			if len(fromBucket) == 0 || len(fromBucket) != len(local.chunks) {
				t.Fatalf("%d chunks from the bucket, %d from the file", len(fromBucket), len(local.chunks))
			}
			for i, c := range fromBucket {
				l := local.chunks[i]
				if c.ID != l.ID || c.Text != l.Text || c.Section != l.Section {
					t.Errorf("chunk %d differs: %+v / %+v", i, c, l)
				}
			}
			// One object as a source; its version changes with its content.
			one := prefix + "sub/sintel_en.srt"
			v1, err := SourceVersion(ctx, one)
			if err != nil || v1 == "" {
				t.Fatalf("version %q, %v", v1, err)
			}
			if sum, _ := run(t, Options{}, one); sum.Documents != 1 || sum.Sources[0].Source != one {
				t.Errorf("one object: %+v", sum)
			}
			if err := bucket.Put(ctx, one, bytes.NewReader([]byte("1\n00:00:01,000 --> 00:00:02,000\nChanged.\n"))); err != nil {
				t.Fatal(err)
			}
			if v2, err := SourceVersion(ctx, one); err != nil || v2 == v1 {
				t.Errorf("version after a rewrite %q (was %q), %v", v2, v1, err)
			}
			if _, _, err := Expand([]string{scheme + "://corpus/none/"}); err == nil || !strings.Contains(err.Error(), "no object") {
				t.Errorf("empty prefix: %v", err)
			}
		})
	}
}
