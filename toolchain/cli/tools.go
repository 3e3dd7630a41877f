//go:build tools

// Package cli pins the Pulumi engine binaries that scripts/pulumi-toolchain.sh
// builds from the Go module proxy. Nothing here is compiled into the binaries;
// the imports only keep the modules (and go.sum) pinned.
package cli

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
)
