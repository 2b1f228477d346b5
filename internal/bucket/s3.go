package bucket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// s3:// through the AWS SDK for Go v2, configured as the AWS CLI is: the
// environment (AWS_ACCESS_KEY_ID, AWS_PROFILE, AWS_REGION,
// AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_S3 for S3-compatible stores and
// emulators, addressed path-style), shared config files, or the instance's
// role.
func init() {
	register("s3", func(ctx context.Context) (Store, error) {
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("AWS configuration: %w", err)
		}
		if cfg.Region == "" {
			cfg.Region = "us-east-1" // S3 answers for any bucket's region with a redirect the SDK follows
		}
		custom := os.Getenv("AWS_ENDPOINT_URL_S3") != "" || os.Getenv("AWS_ENDPOINT_URL") != ""
		return s3Store{s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = custom })}, nil
	})
}

type s3Store struct{ c *s3.Client }

func (s s3Store) List(ctx context.Context, bucket, prefix string) ([]Object, error) {
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		if o, err := s.Stat(ctx, bucket, prefix); err == nil {
			return []Object{o}, nil
		}
	}
	var out []Object
	p := s3.NewListObjectsV2Paginator(s.c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(folder(prefix))})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, o := range page.Contents {
			name := aws.ToString(o.Key)
			if !strings.HasSuffix(name, "/") {
				out = append(out, Object{URL: "s3://" + bucket + "/" + name, Size: aws.ToInt64(o.Size), Version: "etag:" + aws.ToString(o.ETag)})
			}
		}
	}
	return out, nil
}

func (s s3Store) Open(ctx context.Context, bucket, name string) (io.ReadCloser, Object, error) {
	out, err := s.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(name)})
	if err != nil {
		return nil, Object{}, err
	}
	return out.Body, Object{URL: "s3://" + bucket + "/" + name, Size: aws.ToInt64(out.ContentLength), Version: "etag:" + aws.ToString(out.ETag)}, nil
}

func (s s3Store) Stat(ctx context.Context, bucket, name string) (Object, error) {
	out, err := s.c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(name)})
	if err != nil {
		return Object{}, err
	}
	return Object{URL: "s3://" + bucket + "/" + name, Size: aws.ToInt64(out.ContentLength), Version: "etag:" + aws.ToString(out.ETag)}, nil
}

// Put needs a reader it can seek (a file): the request is signed over its
// content.
func (s s3Store) Put(ctx context.Context, bucket, name string, r io.Reader) error {
	rs, ok := r.(io.ReadSeeker)
	if !ok {
		return errors.New("s3 upload needs a seekable reader")
	}
	_, err := s.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(name), Body: rs})
	return err
}
