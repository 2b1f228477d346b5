package ingest

import (
	"testing"
	"time"

	"github.com/markusmobius/go-dateparser"
)

// The HTML extractor's date parser is a patched copy that builds its locale
// tables on first use (third_party/lazy-dateparser.py). Dates in several
// languages and scripts must still parse, from the first call on.
func TestLazyDateparserLocales(t *testing.T) {
	for _, c := range []struct {
		text      string
		languages []string
		want      string
	}{
		{"6 July 2020", nil, "2020-07-06"},
		{"12 mars 2021", []string{"fr"}, "2021-03-12"},
		{"3 de marzo de 2019", []string{"es"}, "2019-03-03"},
		{"14. Februar 2018", []string{"de"}, "2018-02-14"},
		{"2 Ağustos 2017", []string{"tr"}, "2017-08-02"},
		{"5 сентября 2016", []string{"ru"}, "2016-09-05"},
		{"2015年10月8日", []string{"zh"}, "2015-10-08"},
		{"1 Haziran 2022", nil, "2022-06-01"}, // language detected from the text
	} {
		dt, err := dateparser.Parse(&dateparser.Configuration{Languages: c.languages, CurrentTime: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}, c.text)
		if err != nil {
			t.Errorf("%q: %v", c.text, err)
			continue
		}
		if got := dt.Time.Format("2006-01-02"); got != c.want {
			t.Errorf("%q: got %s, want %s", c.text, got, c.want)
		}
	}
}
