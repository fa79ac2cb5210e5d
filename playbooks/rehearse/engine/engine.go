// Package engine runs the playbooks' Athena queries offline, in an embedded
// DuckDB (github.com/duckdb/duckdb-go), over log files laid out as AWS
// delivers them under AWSLogs/.
//
// The tables are the Glue tables of constructs/logschema: same names, in a
// database ir_workshop (so ir_workshop.cloudtrail_logs and a bare
// cloudtrail_logs both resolve, and so does awsdatacatalog.ir_workshop.x),
// same columns and types (Hive types parsed by logschema.ParseType, mapped
// to DuckDB types by DuckDBType), same partition columns, whose values come
// from each file's path as Athena's partition projection computes them from
// the table's path template. Each table's files are read the way its SerDe
// reads them: the CloudTrail SerDe, the OpenX JSON SerDe and LazySimpleSerDe.
//
// The Athena (Trino) functions that the queries use and DuckDB lacks, or has
// with other semantics, are SQL macros (see Macros); session settings make
// integer division, NULL ordering and the time zone behave as in Athena. The
// query files run unmodified.
//
// The package is its own so that building the CDK app never links DuckDB.
package engine

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/ir-workshop/incident-response-playbooks/constructs/logschema"
)

// Catalog is the name of the catalog that holds the ir_workshop database,
// as in Athena.
const Catalog = "awsdatacatalog"

// Engine is an in-memory DuckDB with the workshop's tables.
type Engine struct {
	db     *sql.DB
	tables []table
}

// table is a logschema table with what the engine needs to load it.
type table struct {
	logschema.Table
	cols    []column // data columns, then partition keys
	data    int      // how many of cols are data columns
	pattern *pathPattern
	read    reader
}

// settings are the session settings that make DuckDB answer as Athena does.
var settings = []struct{ sql, why string }{
	{"SET autoinstall_known_extensions = false", "never reach the network for an extension"},
	{"SET TimeZone = 'UTC'", "Athena's session time zone is UTC"},
	{"SET integer_division = true", "in Trino, / of two integers is integer division"},
	{"SET default_null_order = 'nulls_last'", "Trino sorts NULLs last, ascending or descending"},
	{"SET threads = 1", "the same answer every run: rows that tie in ORDER BY, and array_agg's order, come out the same"},
}

// Open starts an empty in-memory DuckDB and creates the workshop's tables
// (empty) and the macros in it.
func Open() (*Engine, error) {
	e := &Engine{}
	for _, t := range logschema.Tables() {
		tt, err := newTable(t)
		if err != nil {
			return nil, err
		}
		e.tables = append(e.tables, tt)
	}
	setup := []string{
		fmt.Sprintf("ATTACH IF NOT EXISTS ':memory:' AS %s", Catalog),
		fmt.Sprintf("CREATE SCHEMA IF NOT EXISTS %s.%s", Catalog, logschema.Database),
		fmt.Sprintf("USE %s.%s", Catalog, logschema.Database),
	}
	for _, s := range settings {
		setup = append(setup, s.sql)
	}
	for _, m := range Macros {
		setup = append(setup, m.create())
	}
	connector, err := duckdb.NewConnector("", func(execer driver.ExecerContext) error {
		for _, stmt := range setup {
			if _, err := execer.ExecContext(context.Background(), stmt, nil); err != nil {
				return fmt.Errorf("%s: %w", stmt, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("starting DuckDB: %w", err)
	}
	e.db = sql.OpenDB(connector)
	// Every statement on one connection: the USE and the temporary macros
	// are per connection, and the data is small.
	e.db.SetMaxOpenConns(1)
	for _, t := range e.tables {
		defs := make([]string, len(t.cols))
		for i, c := range t.cols {
			defs[i] = QuoteIdent(c.name) + " " + DuckDBType(c.typ)
		}
		stmt := fmt.Sprintf("CREATE TABLE %s (%s)", t.qualified(), strings.Join(defs, ", "))
		if _, err := e.db.Exec(stmt); err != nil {
			e.db.Close()
			return nil, fmt.Errorf("creating table %s: %w", t.Name, err)
		}
	}
	return e, nil
}

func newTable(t logschema.Table) (table, error) {
	tt := table{Table: t}
	for _, c := range t.AllColumns() {
		typ, err := logschema.ParseType(c.Type)
		if err != nil {
			return table{}, fmt.Errorf("table %s, column %s: %w", t.Name, c.Name, err)
		}
		tt.cols = append(tt.cols, column{name: c.Name, typ: typ})
	}
	tt.data = len(t.Columns)
	var err error
	if tt.pattern, err = compilePath(t); err != nil {
		return table{}, err
	}
	if tt.read, err = readerFor(t, tt.cols[:tt.data]); err != nil {
		return table{}, err
	}
	return tt, nil
}

func (t table) qualified() string {
	return QuoteIdent(Catalog) + "." + QuoteIdent(logschema.Database) + "." + QuoteIdent(t.Name)
}

// Close stops the database.
func (e *Engine) Close() error {
	return e.db.Close()
}

// LoadStats counts what Load read: rows and files by table name.
type LoadStats struct {
	Files, Rows map[string]int
}

// Load reads every log file under root, a folder that stands for the log
// bucket (it holds AWSLogs/), into the table whose path template the file's
// path matches; other files are ignored, as are files whose name starts
// with '_' or '.' (Hadoop's hidden files, which Athena skips too). Files
// whose name ends in .gz are gunzipped.
func (e *Engine) Load(ctx context.Context, root string) (LoadStats, error) {
	stats := LoadStats{Files: map[string]int{}, Rows: map[string]int{}}
	var paths []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && !strings.HasPrefix(d.Name(), "_") && !strings.HasPrefix(d.Name(), ".") {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return stats, fmt.Errorf("listing log files under %s: %w", root, err)
	}
	sort.Strings(paths)
	batches := make([][][]any, len(e.tables))
	for _, p := range paths {
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return stats, err
		}
		key := filepath.ToSlash(rel)
		for i, t := range e.tables {
			parts, ok := t.pattern.match(key)
			if !ok {
				continue
			}
			data, err := readFile(p)
			if err != nil {
				return stats, err
			}
			rows, err := t.read(data)
			if err != nil {
				return stats, fmt.Errorf("reading %s as %s: %w", key, t.Name, err)
			}
			for _, row := range rows {
				for _, k := range t.PartitionKeys {
					row = append(row, parts[k.Name])
				}
				batches[i] = append(batches[i], row)
			}
			stats.Files[t.Name]++
			stats.Rows[t.Name] += len(rows)
			break
		}
	}
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return stats, err
	}
	defer conn.Close()
	for i, t := range e.tables {
		if len(batches[i]) == 0 {
			continue
		}
		err := conn.Raw(func(dc any) error {
			a, err := duckdb.NewAppender(dc.(driver.Conn), Catalog, logschema.Database, t.Name)
			if err != nil {
				return err
			}
			for _, row := range batches[i] {
				if err := a.AppendRow(values(row)...); err != nil {
					a.Close()
					return err
				}
			}
			return a.Close()
		})
		if err != nil {
			return stats, fmt.Errorf("loading table %s: %w", t.Name, err)
		}
	}
	return stats, nil
}

func values(row []any) []driver.Value {
	out := make([]driver.Value, len(row))
	for i, v := range row {
		out[i] = v
	}
	return out
}

// readFile reads a log file, gunzipping it if its name ends in .gz.
func readFile(p string) ([]byte, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	if path.Ext(p) != ".gz" {
		return data, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("gunzipping %s: %w", p, err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("gunzipping %s: %w", p, err)
	}
	return out, nil
}

// Table names, for callers that count rows.
const (
	TableCloudTrail = logschema.CloudTrailTable
	TableVPCFlow    = logschema.VPCFlowTable
	TableDNS        = logschema.DNSTable
)
