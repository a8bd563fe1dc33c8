//go:build tools

// Package tools pins the helm CLI for hardline's integration tests.
// Built by tests/peers/install.sh; never imported by real code.
package tools

import (
	_ "helm.sh/helm/v3/cmd/helm"
)
