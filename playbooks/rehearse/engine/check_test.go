package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The queries in ../testdata/queries, the one set of query fixtures:
// good_*.sql must pass Check and run; each bad_*.sql must fail Check for
// its own reason, with an error that names the file and contains the text
// of its first line's "-- want:" comment.
func TestCheckPassesGoodQueriesAndRejectsEachBadOneForItsReason(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "queries", "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test queries (%v)", err)
	}
	e := open(t, sampleFiles)
	ctx := context.Background()
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sql := string(raw)
		name := filepath.Base(f)
		t.Run(strings.TrimSuffix(name, ".sql"), func(t *testing.T) {
			err := e.Check(ctx, f, sql)
			switch {
			case strings.HasPrefix(name, "good_"):
				if err != nil {
					t.Fatal(err)
				}
				if _, err := e.Query(ctx, sql); err != nil {
					t.Fatalf("%s: %v", f, err)
				}
			case strings.HasPrefix(name, "bad_"):
				first, _, _ := strings.Cut(sql, "\n")
				want, ok := strings.CutPrefix(first, "-- want: ")
				if !ok {
					t.Fatalf("%s: first line must be -- want: TEXT", f)
				}
				if err == nil {
					t.Fatalf("%s passed the check, want an error containing %q", f, want)
				}
				if !strings.Contains(err.Error(), f) || !strings.Contains(err.Error(), want) {
					t.Errorf("error %q, want one naming %s and containing %q", err, f, want)
				}
			default:
				t.Fatalf("%s: name test queries good_*.sql or bad_*.sql", f)
			}
		})
	}
}

func TestPartitionCheckFollowsEachTableScan(t *testing.T) {
	e := open(t, nil)
	tests := []struct {
		sql  string
		want int // problems
	}{
		{"SELECT 1 FROM cloudtrail_logs WHERE date_partition = '2026/03/14'", 0},
		{"SELECT 1 FROM cloudtrail_logs WHERE date_partition IN ('2026/03/14', '2026/03/15')", 0},
		{"SELECT 1 FROM cloudtrail_logs WHERE date_partition LIKE '2026/03/%'", 0},
		{"SELECT 1 FROM cloudtrail_logs c WHERE c.date_partition BETWEEN '2026/03/01' AND '2026/03/31'", 0},
		{"SELECT 1 FROM cloudtrail_logs c WHERE date_partition IS NOT NULL", 1},
		{"SELECT 1 FROM cloudtrail_logs", 1},
		{"SELECT 1 FROM cloudtrail_logs a JOIN cloudtrail_logs b ON a.eventid = b.eventid AND b.date_partition = '2026/03/14' WHERE a.date_partition = '2026/03/14'", 0},
		{"SELECT 1 FROM cloudtrail_logs a JOIN cloudtrail_logs b ON a.eventid = b.eventid WHERE a.date_partition = '2026/03/14'", 1},
		{"WITH x AS (SELECT * FROM dns_query_logs WHERE date_partition >= '2026/03/01') SELECT * FROM x", 0},
		{"SELECT * FROM (SELECT * FROM dns_query_logs) WHERE date_partition >= '2026/03/01'", 1},
		{"SELECT 1", 0},
	}
	for _, tt := range tests {
		problems, err := e.PartitionCheck(context.Background(), tt.sql)
		if err != nil {
			t.Errorf("%s: %v", tt.sql, err)
			continue
		}
		if len(problems) != tt.want {
			t.Errorf("%s: problems %q, want %d", tt.sql, problems, tt.want)
		}
	}
}
