//go:build tools

// Package tools pins kube-apiserver (k8s.io/kubernetes) for hardline's
// integration tests. Built by tests/peers/install.sh.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
)
