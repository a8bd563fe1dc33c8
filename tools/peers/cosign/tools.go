//go:build tools

// Package tools pins the cosign CLI for hardline's integration tests.
// Built by tests/peers/install.sh; never imported by real code.
package tools

import (
	_ "github.com/sigstore/cosign/v2/cmd/cosign"
)
