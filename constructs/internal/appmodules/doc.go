// Package appmodules holds the test that keeps the Makefile's APP_MODULES,
// the Go modules `make synth` downloads before it builds the app, equal to
// the modules the build needs.
package appmodules
