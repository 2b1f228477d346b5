package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tuneline/tuneline/internal/iostreams"
	"github.com/tuneline/tuneline/internal/progress"
	"github.com/tuneline/tuneline/tune"
)

// TuneOptions are the inputs every tune subcommand shares.
type TuneOptions struct {
	IO     *iostreams.IOStreams
	NoWait bool
	Poll   time.Duration
	JSON   bool
	Force  bool
	// Vertex is the Vertex AI connection (vertex, and status/cancel of a
	// Vertex job).
	Vertex tune.VertexOptions
}

// TuneOpenAIOptions are tune openai's inputs.
type TuneOpenAIOptions struct {
	TuneOptions
	Dir string
	tune.OpenAIOptions
	seed int64
}

func tuneFlags(o *TuneOptions) []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "no-wait", Usage: "print the job's id and return once it is created (follow it later with tune status --wait)", Destination: &o.NoWait},
		&cli.DurationFlag{Name: "poll", Value: tune.DefaultPoll, Usage: "how often to look at the job while following it", Destination: &o.Poll},
		&cli.BoolFlag{Name: "json", Usage: "print the job as JSON on stdout", Destination: &o.JSON},
	}
}

func vertexConnFlags(o *tune.VertexOptions) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "endpoint", Usage: "Vertex AI service `URL` (default https://LOCATION-aiplatform.googleapis.com)", Destination: &o.Endpoint},
	}
}

func newTuneCmd(ios *iostreams.IOStreams) *cli.Command {
	return &cli.Command{
		Name:  "tune",
		Usage: "run a fine-tuning job on OpenAI or Vertex AI from an export, and follow it",
		Description: `A job runs at the service, not in tuneline: Ctrl-C stops following it (the
job goes on) and prints how to follow it again; --no-wait returns once the job
is created. The tuned model's name goes to stdout when the job succeeds; a job
that fails ends with the service's own message and exit 1.

   tune openai   upload an openai export and fine-tune (supervised, or DPO for preference pairs)
   tune vertex   tune a Gemini model on Vertex AI from a vertex export (local or gs://)
   tune status   show a job (--wait follows it to its end)
   tune cancel   stop a job

Data made by tuneline's tiny random-weight test model is refused unless --force.`,
		Subcommands: []*cli.Command{
			newTuneOpenAICmd(ios),
			newTuneVertexCmd(ios),
			newTuneStatusCmd(ios),
			newTuneCancelCmd(ios),
		},
	}
}

func newTuneOpenAICmd(ios *iostreams.IOStreams) *cli.Command {
	o := &TuneOpenAIOptions{TuneOptions: TuneOptions{IO: ios}}
	return &cli.Command{
		Name:      tune.ServiceOpenAI,
		Usage:     "fine-tune an OpenAI model on an openai export",
		ArgsUsage: "EXPORT_DIR",
		Description: `Uploads EXPORT_DIR's train.jsonl (and validation.jsonl when the export has
one) with purpose fine-tune, creates a fine-tuning job (method supervised, or
dpo when the export holds preference pairs) and follows it: status changes,
the service's messages and, while training, step and training loss. At the
end the fine-tuned model's name is printed on stdout.

The key and server are read as OpenAI's own SDKs read them: OPENAI_API_KEY
(required), OPENAI_BASE_URL, OPENAI_ORG_ID, OPENAI_PROJECT_ID. Rate limits
(429) and server errors are retried, honouring Retry-After.

EXAMPLES:
   tuneline export --format openai --out ft/ data.jsonl
   tuneline tune openai --model gpt-4.1-mini-2025-04-14 --suffix support --epochs 3 ft/
   tuneline tune openai --model gpt-4.1-mini-2025-04-14 --no-wait ft/   # prints the job id`,
		Flags: append(tuneFlags(&o.TuneOptions),
			&cli.StringFlag{Name: "model", Aliases: []string{"m"}, Required: true, Usage: "base `MODEL` to fine-tune", Destination: &o.Model},
			&cli.StringFlag{Name: "suffix", Usage: "up to 64 characters added to the fine-tuned model's name", Destination: &o.Suffix},
			&cli.IntFlag{Name: "epochs", Usage: "training epochs (default: the service chooses)", Destination: &o.Epochs},
			&cli.Int64Flag{Name: "seed", Usage: "seed for a reproducible job (default: the service chooses)", Destination: &o.seed},
			&cli.Float64Flag{Name: "learning-rate-multiplier", Usage: "learning rate multiplier (default: the service chooses)", Destination: &o.LearningRateMultiplier},
			&cli.IntFlag{Name: "batch-size", Usage: "batch size (default: the service chooses)", Destination: &o.BatchSize},
			&cli.Float64Flag{Name: "beta", Usage: "DPO beta, for preference exports (default: the service chooses)", Destination: &o.Beta},
			&cli.BoolFlag{Name: "force", Usage: "tune on data made by the random-weight test model", Destination: &o.Force},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageErr("tune openai: want one EXPORT_DIR (see tuneline tune openai --help)")
			}
			o.Dir = c.Args().First()
			if c.IsSet("seed") {
				o.Seed = &o.seed
			}
			return runTuneOpenAI(c.Context, o)
		},
	}
}

func runTuneOpenAI(ctx context.Context, o *TuneOpenAIOptions) error {
	rep, err := tune.ReadExport(o.Dir, tune.ServiceOpenAI, o.Force)
	if err != nil {
		return err
	}
	svc, err := tune.NewOpenAI()
	if err != nil {
		return err
	}
	var bar *progress.Bar
	o.Uploaded = func(file string, done, total int64) {
		if bar == nil {
			bar = newBar(o.IO, "upload "+filepath.Base(file), total)
		}
		bar.Set(done)
		if done == total {
			bar.Done()
			bar = nil
		}
	}
	job, err := svc.Start(ctx, o.Dir, rep, o.OpenAIOptions)
	if bar != nil {
		bar.Done()
	}
	if err != nil {
		return err
	}
	method := "supervised"
	if rep.Kind == "preference" {
		method = "dpo"
	}
	fmt.Fprintf(o.IO.ErrOut, "openai: created %s job %s on %s\n", method, job.ID, job.BaseModel)
	return finishTune(ctx, &o.TuneOptions, svc, job)
}

// finishTune prints a created job (--no-wait) or follows it to its end.
func finishTune(ctx context.Context, o *TuneOptions, svc tune.Service, job tune.Job) error {
	if o.NoWait {
		if o.JSON {
			return writeJSON(o.IO.Out, job)
		}
		fmt.Fprintln(o.IO.Out, job.ID)
		fmt.Fprintf(o.IO.ErrOut, "follow it with: tuneline tune status --wait %s\n", job.ID)
		return nil
	}
	return followJob(ctx, o, svc, job.ID)
}

// followJob follows a job, showing its progress on stderr, and prints the
// tuned model (or the job as JSON) on stdout.
func followJob(ctx context.Context, o *TuneOptions, svc tune.Service, id string) error {
	st := progress.NewStages(o.IO.ErrOut, progress.Options{Live: o.IO.StderrTTY, Off: o.IO.Quiet}, func(s string) string { return svc.Name() + " " + s })
	var mu sync.Mutex
	status, loss := "", -1.0
	st.SetNote(func() string {
		mu.Lock()
		defer mu.Unlock()
		if loss >= 0 {
			return fmt.Sprintf("%s, train loss %.4f", status, loss)
		}
		return status
	})
	stop := make(chan struct{})
	go st.Heartbeat(5*time.Second, stop)
	log := st.Log()
	obs := &tune.Observer{
		Status: func(s string) {
			mu.Lock()
			status = s
			mu.Unlock()
			fmt.Fprintf(log, "%s: job %s %s\n", svc.Name(), id, s)
		},
		Log: func(m string) { fmt.Fprintf(log, "%s: %s\n", svc.Name(), m) },
		Metrics: func(step, total int, l float64) {
			mu.Lock()
			loss = l
			mu.Unlock()
			st.Set("training", int64(step), int64(total))
		},
	}
	job, err := tune.Follow(ctx, svc, id, o.Poll, obs)
	close(stop)
	st.Done()
	if err != nil {
		var fe *tune.FailedError
		if o.JSON && errors.As(err, &fe) {
			_ = writeJSON(o.IO.Out, job)
		}
		return err
	}
	if o.JSON {
		return writeJSON(o.IO.Out, job)
	}
	fmt.Fprintln(o.IO.Out, job.Model)
	if job.Endpoint != "" {
		fmt.Fprintf(o.IO.ErrOut, "%s: endpoint %s\n", svc.Name(), job.Endpoint)
	}
	return nil
}

// serviceFor makes the client of the service job id belongs to.
func serviceFor(id string, o *TuneOptions) (tune.Service, error) {
	name, err := tune.ServiceOf(id)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	if name == tune.ServiceOpenAI {
		return tune.NewOpenAI()
	}
	return tune.NewVertex(context.Background(), o.Vertex)
}

func newTuneStatusCmd(ios *iostreams.IOStreams) *cli.Command {
	o := &TuneOptions{IO: ios}
	wait := false
	return &cli.Command{
		Name:      "status",
		Usage:     "show a tuning job; --wait follows it to its end",
		ArgsUsage: "JOB",
		Description: `JOB is an OpenAI job id (ftjob-...) or a Vertex AI tuning job name
(projects/P/locations/L/tuningJobs/N). Prints the job's id, state and, once it
has succeeded, the tuned model (--json: the whole job). With --wait it follows
the job as tune openai|vertex do and prints the tuned model at the end.`,
		Flags: append(append(tuneFlags(o)[1:], vertexConnFlags(&o.Vertex)...),
			&cli.BoolFlag{Name: "wait", Aliases: []string{"w"}, Usage: "follow the job to its end", Destination: &wait}),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageErr("tune status: want one JOB (see tuneline tune status --help)")
			}
			id := c.Args().First()
			svc, err := serviceFor(id, o)
			if err != nil {
				return err
			}
			if wait {
				return followJob(c.Context, o, svc, id)
			}
			job, err := svc.Poll(c.Context, id, nil)
			if err != nil {
				return err
			}
			return printJob(o, job)
		},
	}
}

func printJob(o *TuneOptions, job tune.Job) error {
	if o.JSON {
		return writeJSON(o.IO.Out, job)
	}
	fmt.Fprintf(o.IO.Out, "%s\t%s", job.ID, job.Status)
	if job.Model != "" {
		fmt.Fprintf(o.IO.Out, "\t%s", job.Model)
	}
	if job.Endpoint != "" {
		fmt.Fprintf(o.IO.Out, "\t%s", job.Endpoint)
	}
	fmt.Fprintln(o.IO.Out)
	if job.Error != "" {
		fmt.Fprintf(o.IO.ErrOut, "%s: %s\n", job.Service, job.Error)
	}
	return nil
}

func newTuneCancelCmd(ios *iostreams.IOStreams) *cli.Command {
	o := &TuneOptions{IO: ios}
	return &cli.Command{
		Name:        "cancel",
		Usage:       "stop a tuning job",
		ArgsUsage:   "JOB",
		Description: `JOB is an OpenAI job id (ftjob-...) or a Vertex AI tuning job name. Prints the job as the service has it after the request.`,
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print the job as JSON on stdout", Destination: &o.JSON},
		}, vertexConnFlags(&o.Vertex)...),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageErr("tune cancel: want one JOB (see tuneline tune cancel --help)")
			}
			id := c.Args().First()
			svc, err := serviceFor(id, o)
			if err != nil {
				return err
			}
			job, err := svc.Cancel(c.Context, id)
			if err != nil {
				return err
			}
			return printJob(o, job)
		},
	}
}

func newTuneVertexCmd(ios *iostreams.IOStreams) *cli.Command {
	o := &TuneOptions{IO: ios}
	v := &o.Vertex
	return &cli.Command{
		Name:      tune.ServiceVertex,
		Usage:     "tune a Gemini model on Vertex AI from a vertex export",
		ArgsUsage: "SOURCE",
		Description: `SOURCE is a gs://BUCKET/PREFIX holding a vertex export's train.jsonl (and
validation.jsonl), as tuneline publish gcs leaves it, or a local vertex export,
uploaded first under --bucket gs://BUCKET/PREFIX (objects already there with
the same content are left alone). Creates a supervised tuning job (Vertex AI
tuningJobs, v1) and follows it: its state and the tuning data statistics. At
the end the tuned model is printed on stdout and its endpoint on stderr
(--json: both, with the job).

Credentials are Application Default Credentials: the service-account key file
in GOOGLE_APPLICATION_CREDENTIALS, else gcloud auth application-default login,
else the metadata server. The account needs the Vertex AI User role.

EXAMPLES:
   tuneline export --format vertex --out vx/ data.jsonl
   tuneline publish gcs gs://my-bucket/tuning/v1 vx/
   tuneline tune vertex --project my-proj --location us-central1 --base-model gemini-2.0-flash-001 gs://my-bucket/tuning/v1
   tuneline tune vertex --project my-proj --location us-central1 --base-model gemini-2.0-flash-001 --bucket gs://my-bucket/tuning/v1 vx/`,
		Flags: append(append(tuneFlags(o), vertexConnFlags(v)...),
			&cli.StringFlag{Name: "project", Required: true, Usage: "Google Cloud `PROJECT` id", Destination: &v.Project},
			&cli.StringFlag{Name: "location", Required: true, Usage: "region of the job (us-central1, europe-west4, ...)", Destination: &v.Location},
			&cli.StringFlag{Name: "base-model", Required: true, Usage: "Gemini `MODEL` to tune (gemini-2.0-flash-001, ...)", Destination: &v.BaseModel},
			&cli.StringFlag{Name: "bucket", Usage: "gs://BUCKET/PREFIX to upload a local SOURCE to", Destination: &v.Bucket},
			&cli.StringFlag{Name: "display-name", Usage: "the tuned model's display name", Destination: &v.DisplayName},
			&cli.IntFlag{Name: "epochs", Usage: "epochs (default: the service chooses)", Destination: &v.Epochs},
			&cli.IntFlag{Name: "adapter-size", Usage: "LoRA adapter size: 1, 2, 4, 8, 16 or 32 (default: the service chooses)", Destination: &v.AdapterSize},
			&cli.Float64Flag{Name: "learning-rate-multiplier", Usage: "learning rate multiplier (default: the service chooses)", Destination: &v.LearningRateMultiplier},
			&cli.BoolFlag{Name: "force", Usage: "tune on data made by the random-weight test model", Destination: &v.Force},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageErr("tune vertex: want one SOURCE (see tuneline tune vertex --help)")
			}
			return runTuneVertex(c.Context, o, c.Args().First())
		},
	}
}

func runTuneVertex(ctx context.Context, o *TuneOptions, source string) error {
	var bar *progress.Bar
	o.Vertex.Uploaded = func(done, total int64) {
		if bar == nil {
			bar = progress.New(o.IO.ErrOut, progress.Options{Label: "upload", Total: total, Bytes: true, Live: o.IO.StderrTTY, Off: o.IO.Quiet})
		}
		bar.Set(done)
	}
	svc, err := tune.NewVertex(ctx, o.Vertex)
	if err != nil {
		return err
	}
	job, err := svc.Start(ctx, source)
	if bar != nil {
		bar.Done()
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(o.IO.ErrOut, "vertex: created tuning job %s on %s\n", job.ID, job.BaseModel)
	return finishTune(ctx, o, svc, job)
}
