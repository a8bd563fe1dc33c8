//go:build tools

// Package tools pins etcd (server) for hardline's integration tests.
// In etcd 3.5 the etcd binary's package main is the module root of
// go.etcd.io/etcd/server/v3. Built by tests/peers/install.sh.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
)
