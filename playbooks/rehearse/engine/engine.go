// Package engine runs the playbooks' Athena queries offline, in an embedded
// DuckDB (github.com/duckdb/duckdb-go), over log files laid out as AWS
// delivers them under AWSLogs/.
//
// The tables are the Glue tables of constructs/logschema: same names, in a
// database ir_workshop (so ir_workshop.cloudtrail_logs and a bare
// cloudtrail_logs both resolve, and so does awsdatacatalog.ir_workshop.x),
// same columns and types (logschema.Type's DuckDB form), same partition
// columns, whose values come from each file's path as Athena's partition
// projection computes them from the table's path template. DuckDB's
// readers load each table's files the way its SerDe reads them (see Load).
//
// The Athena (Trino) functions that the queries use and DuckDB lacks, or has
// with other semantics, are SQL macros (see Macros); session settings make
// integer division, NULL ordering and the time zone behave as in Athena. The
// query files run unmodified. Check is the one check of a playbook query:
// DuckDB's binder, plus the rules DuckDB cannot know (see Check).
//
// The package is its own so that building the CDK app never links DuckDB.
package engine

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/ir-workshop/incident-response-playbooks/constructs/logschema"
)

// Catalog is the name of the catalog that holds the ir_workshop database,
// as in Athena.
const Catalog = "awsdatacatalog"

// Engine is an in-memory DuckDB with the workshop's tables.
type Engine struct {
	db *sql.DB
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
	e := &Engine{db: sql.OpenDB(connector)}
	// Every statement on one connection: the USE and the temporary macros
	// are per connection, and the data is small.
	e.db.SetMaxOpenConns(1)
	for _, t := range logschema.Tables() {
		var defs []string
		for _, c := range t.AllColumns() {
			defs = append(defs, QuoteIdent(c.Name)+" "+c.Type.DuckDB())
		}
		if _, err := e.db.Exec(fmt.Sprintf("CREATE TABLE %s (%s)", qualified(t), strings.Join(defs, ", "))); err != nil {
			e.db.Close()
			return nil, fmt.Errorf("creating table %s: %w", t.Name, err)
		}
	}
	return e, nil
}

// qualified is a table's name with its catalog and database.
func qualified(t logschema.Table) string {
	return QuoteIdent(Catalog) + "." + QuoteIdent(logschema.Database) + "." + QuoteIdent(t.Name)
}

// QuoteIdent quotes an SQL identifier for DuckDB.
func QuoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// Close stops the database.
func (e *Engine) Close() error {
	return e.db.Close()
}
