package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/tuneline/tuneline/format"
	"github.com/tuneline/tuneline/internal/conf"
	"github.com/tuneline/tuneline/internal/iostreams"
	"github.com/tuneline/tuneline/pipelines"
	"github.com/tuneline/tuneline/publish"
	"github.com/tuneline/tuneline/publish/gcs"
	"github.com/tuneline/tuneline/publish/hf"
)

// PublishOptions are the inputs of publish hf and publish gcs.
type PublishOptions struct {
	IO     *iostreams.IOStreams
	Target string // hf: REPO_ID; gcs: gs://BUCKET/PREFIX
	Dir    string
	JSON   bool
	// Config is the workspace's publish section (its flags: --private,
	// --revision, --force; the destination is the argument).
	Config  pipelines.PublishSection
	Message string
}

// publishFlags are the flags of cfg's fields named in names.
func publishFlags(cfg *pipelines.PublishSection, names ...string) []cli.Flag {
	var out []cli.Flag
	for _, f := range conf.Flags(cfg) {
		if slices.Contains(names, f.Names()[0]) {
			out = append(out, f)
		}
	}
	return out
}

func newPublishCmd(ios *iostreams.IOStreams) *cli.Command {
	jsonFlag := func(o *PublishOptions) cli.Flag {
		return &cli.BoolFlag{Name: "json", Usage: "print what was published (files, commit or generations) as JSON", Destination: &o.JSON}
	}
	ho := &PublishOptions{IO: ios, Config: pipelines.DefaultPublish()}
	gho := &PublishOptions{IO: ios, Config: pipelines.DefaultPublish()}
	args := func(o *PublishOptions, name string) func(*cli.Context) error {
		return func(c *cli.Context) error {
			if c.NArg() != 2 {
				return usageErr("publish %s: want two arguments, got %d (see tuneline publish %s --help)", name, c.NArg(), name)
			}
			o.Target, o.Dir = c.Args().Get(0), c.Args().Get(1)
			if name == format.TargetHF {
				return runPublishHF(c.Context, o)
			}
			return runPublishGCS(c.Context, o)
		}
	}
	return &cli.Command{
		Name:  "publish",
		Usage: "push an export to a Hugging Face Hub dataset repo or a Cloud Storage prefix",
		Description: `publish sends an export folder (tuneline export --out DIR) where trainers read it.
Files already there with the same content are not sent again, so running it twice
sends nothing the second time. An export of the tiny random-weight model's output
(export-report.json says random_model) is refused unless --force.`,
		Subcommands: []*cli.Command{
			{
				Name:      format.TargetHF, // publishes the hf export
				Usage:     "publish an hf export as a Hub dataset repo (created when missing)",
				ArgsUsage: "REPO_ID EXPORT_DIR",
				Description: `Pushes every file of EXPORT_DIR (Parquet shards in LFS, the README card, the
export report) to the dataset repo REPO_ID (NAMESPACE/NAME) in one commit,
through the Hub's HTTP API as huggingface_hub does. Unchanged files are not
sent; an unchanged export makes no commit.

The token comes from HF_TOKEN, else the file huggingface_hub keeps it in
($HF_HOME/token, by default ~/.cache/huggingface/token: hf auth login writes
it). It needs write access. HF_ENDPOINT overrides the Hub's address. 429
answers are retried after their Retry-After, 5xx and dropped connections
with backoff.

EXAMPLES:
   tuneline export --format hf --out build/hf data.jsonl
   HF_TOKEN=hf_... tuneline publish hf alice/physics-qa build/hf
   tuneline publish hf --private --revision v2 --message "second round" alice/physics-qa build/hf`,
				Flags: append(publishFlags(&ho.Config, "private", "revision", "force"), jsonFlag(ho),
					&cli.StringFlag{Name: "message", Usage: "commit message (default names the export: examples, kind, the tuneline build)", Destination: &ho.Message},
				),
				Action: args(ho, format.TargetHF),
			},
			{
				Name:      "gcs",
				Usage:     "upload an export to gs://BUCKET/PREFIX",
				ArgsUsage: "gs://BUCKET/PREFIX EXPORT_DIR",
				Description: `Uploads every file of EXPORT_DIR as PREFIX/FILE with Cloud Storage's resumable
uploads, each checked by its CRC32C. Objects that already hold the same
content (size and CRC32C) are left alone: their generation does not change.

Credentials are Application Default Credentials: GOOGLE_APPLICATION_CREDENTIALS
(a service-account key file), else gcloud auth application-default login, else
the metadata server. STORAGE_EMULATOR_HOST points it at an emulator.

EXAMPLES:
   tuneline export --format vertex --out build/vertex data.jsonl
   tuneline publish gcs gs://my-bucket/physics/v1 build/vertex`,
				Flags:  append(publishFlags(&gho.Config, "force"), jsonFlag(gho)),
				Action: args(gho, "gcs"),
			},
		},
	}
}

// checkExport applies the publishing refusals and prints what it lets
// through with --force.
func checkExport(o *PublishOptions) (*format.Report, error) {
	rep, err := publish.CheckExport(o.Dir, o.Config.Force)
	if err != nil {
		return nil, err
	}
	if o.Config.Force && rep != nil && rep.RandomModel {
		fmt.Fprintf(o.IO.ErrOut, "warning: %s holds the tiny random-weight model's output (gibberish); publishing it because of --force\n", o.Dir)
	}
	return rep, nil
}

func runPublishHF(ctx context.Context, o *PublishOptions) error {
	rep, err := checkExport(o)
	if err != nil {
		return err
	}
	msg := o.Message
	if msg == "" {
		msg = "Upload dataset with tuneline " + toolVersion()
		if rep != nil {
			msg = fmt.Sprintf("Upload %d %s examples (%s export by %s)", rep.Written, rep.Kind, rep.Target, rep.Tool)
		}
	}
	res, err := withBar(o, "publish hf", func(progress func(done, total int64)) (hf.Result, error) {
		return hf.Publish(ctx, o.Target, o.Dir, hf.Options{
			Private: o.Config.HFPrivate, Revision: o.Config.HFRevision, Message: msg, Log: o.IO.ErrOut, Progress: progress,
		})
	})
	if err != nil || o.JSON {
		return err
	}
	url := res.URL(hf.Endpoint())
	if !res.Committed {
		fmt.Fprintf(o.IO.Out, "%s: unchanged at %s (%d files already there, nothing sent)\n", url, res.Commit, len(res.Files))
		return nil
	}
	fmt.Fprintf(o.IO.Out, "%s: commit %s on %s (%d of %d files sent, %d to LFS, %d bytes)\n", url, res.Commit, res.Revision, res.Uploaded, len(res.Files), res.LFSUploaded, res.Bytes)
	return nil
}

func runPublishGCS(ctx context.Context, o *PublishOptions) error {
	if _, _, err := gcs.ParseURL(o.Target); err != nil {
		return usageErr("publish gcs: %v", err)
	}
	if _, err := checkExport(o); err != nil {
		return err
	}
	res, err := withBar(o, "publish gcs", func(progress func(done, total int64)) (gcs.Result, error) {
		return gcs.UploadDir(ctx, o.Target, o.Dir, gcs.Options{Progress: progress})
	})
	if err != nil || o.JSON {
		return err
	}
	for _, ob := range res.Objects {
		state := "unchanged"
		if ob.Uploaded {
			state = "uploaded"
		}
		fmt.Fprintf(o.IO.Out, "gs://%s/%s\tgeneration %d\t%s\n", res.Bucket, ob.Name, ob.Generation, state)
	}
	fmt.Fprintf(o.IO.ErrOut, "%d uploaded (%d bytes), %d unchanged\n", res.Uploaded, res.Bytes, res.Unchanged)
	return nil
}

// withBar runs one publishing with a byte progress bar on stderr and, with
// --json, prints its result.
func withBar[R any](o *PublishOptions, label string, f func(progress func(done, total int64)) (R, error)) (R, error) {
	bar := newBar(o.IO, label, 0)
	res, err := f(func(done, total int64) { bar.SetTotal(total); bar.Set(done) })
	bar.Done()
	if err == nil && o.JSON {
		err = writeJSON(o.IO.Out, res)
	}
	return res, err
}
