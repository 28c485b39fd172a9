// Command ferretdb-test runs FerretDB 1.24 for the test suite, the demo and the benchmark: over
// SQLite by default, or over PostgreSQL with -postgresql-url (the database is created when missing).
//
// FerretDB 1.24 does not apply a single-document update atomically: it reads, modifies and
// writes without isolation, so concurrent $inc/$push lose updates and a conditional update can
// have several winners. MongoDB guarantees per-document atomicity and the library relies on it.
// To keep the test server honest, FerretDB listens on a private Unix socket and this program
// relays every client connection to it, holding one process-wide lock from a command's request
// to its reply. Handshake and liveness commands skip the lock so that monitoring never waits.
//
// Usage: ferretdb-test -listen 127.0.0.1:0 -data DIR [-postgresql-url URL] [-exit-with-parent]
// (DIR holds the SQLite files, or only the private socket with -postgresql-url.)
// Prints "listening <host:port>" on stdout once clients can connect; stops on SIGINT/SIGTERM.
package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

const (
	opMsg          = 2013
	flagMoreToCome = 1 << 1
	maxMessage     = 48 * 1000 * 1000 // MongoDB's maxMessageSizeBytes
)

// Commands that never touch user data: no lock, so driver monitoring is not delayed by a long write.
var lockFree = map[string]bool{
	"hello": true, "isMaster": true, "ismaster": true, "ping": true, "buildInfo": true,
	"buildinfo": true, "saslStart": true, "saslContinue": true, "endSessions": true,
}

var commandLock sync.Mutex

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "public TCP address for clients")
	dataDir := flag.String("data", "", "existing directory for the SQLite files and the private socket (required)")
	postgresqlURL := flag.String("postgresql-url", "", "use FerretDB's PostgreSQL handler on this database, e.g. postgres://postgres@127.0.0.1:5432/ferretdb (created if missing)")
	logLevel := flag.String("log-level", "error", "FerretDB log level: debug, info, warn, error")
	exitWithParent := flag.Bool("exit-with-parent", false, "stop when standard input closes (the parent process is gone)")
	flag.Parse()
	if *dataDir == "" {
		fmt.Fprintln(os.Stderr, "ferretdb-test: -data is required")
		os.Exit(2)
	}
	abs, err := filepath.Abs(*dataDir)
	if err != nil {
		fail(err)
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fail(err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	socket := filepath.Join(abs, "ferretdb.sock")
	_ = os.Remove(socket)
	config := ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{Unix: socket},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/",
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if *postgresqlURL != "" {
		// FerretDB connects lazily, so an unreachable server would only show as failing commands:
		// check it here, before announcing that clients can connect.
		if err := ensurePostgreSQLDatabase(ctx, *postgresqlURL); err != nil {
			fail(err)
		}
		config.Handler = "postgresql"
		config.SQLiteURL = ""
		config.PostgreSQLURL = *postgresqlURL
	}
	f, err := ferretdb.New(&config)
	if err != nil {
		fail(err)
	}
	if *exitWithParent {
		// The parent keeps our stdin open; the OS closes it when the parent dies, however it dies,
		// so a killed test run never leaves a server behind.
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			stop()
		}()
	}
	done := make(chan struct{})
	go func() {
		_ = f.Run(ctx)
		close(done)
	}()

	if err := waitForSocket(socket, 10*time.Second); err != nil {
		fail(err)
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fail(err)
	}
	fmt.Printf("listening %s\n", ln.Addr().String())

	go func() {
		<-ctx.Done()
		_ = ln.Close()
	}()
	for {
		client, err := ln.Accept()
		if err != nil {
			break
		}
		go relay(client, socket)
	}
	<-done
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "ferretdb-test:", err)
	os.Exit(1)
}

// ensurePostgreSQLDatabase connects to the database named by url, creating it (from the server's
// "postgres" database) when it does not exist.
func ensurePostgreSQLDatabase(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err == nil {
		return conn.Close(ctx)
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "3D000" { // invalid_catalog_name: no such database
		return fmt.Errorf("PostgreSQL: %w", err)
	}
	config, err := pgx.ParseConfig(url)
	if err != nil {
		return err
	}
	name := config.Database
	config.Database = "postgres"
	admin, err := pgx.ConnectConfig(ctx, config)
	if err != nil {
		return fmt.Errorf("PostgreSQL (creating database %q): %w", name, err)
	}
	defer admin.Close(ctx)
	_, err = admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // duplicate_database: created meanwhile
		return nil
	}
	if err != nil {
		return fmt.Errorf("PostgreSQL (creating database %q): %w", name, err)
	}
	return nil
}

func waitForSocket(path string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("unix", path); err == nil {
			_ = c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("FerretDB did not open %s within %s", path, timeout)
}

// relay forwards one client connection, one request/reply exchange at a time.
func relay(client net.Conn, socket string) {
	defer client.Close()
	server, err := net.Dial("unix", socket)
	if err != nil {
		return
	}
	defer server.Close()

	for {
		request, err := readMessage(client)
		if err != nil {
			return
		}
		if err := exchange(request, client, server); err != nil {
			return
		}
	}
}

func exchange(request []byte, client, server net.Conn) error {
	if needsLock(request) {
		commandLock.Lock()
		defer commandLock.Unlock()
	}
	if _, err := server.Write(request); err != nil {
		return err
	}
	if expectsNoReply(request) {
		return nil
	}
	reply, err := readMessage(server)
	if err != nil {
		return err
	}
	_, err = client.Write(reply)
	return err
}

func readMessage(r io.Reader) ([]byte, error) {
	var header [16]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		return nil, err
	}
	length := int(int32(binary.LittleEndian.Uint32(header[0:4])))
	if length < 16 || length > maxMessage {
		return nil, errors.New("invalid wire message length")
	}
	message := make([]byte, length)
	copy(message, header[:])
	if _, err := io.ReadFull(r, message[16:]); err != nil {
		return nil, err
	}
	return message, nil
}

func opCode(message []byte) int32 {
	return int32(binary.LittleEndian.Uint32(message[12:16]))
}

func expectsNoReply(message []byte) bool {
	if opCode(message) != opMsg || len(message) < 20 {
		return false
	}
	return binary.LittleEndian.Uint32(message[16:20])&flagMoreToCome != 0
}

// needsLock reports whether a request may read or write user data. Anything it cannot parse
// (legacy opcodes, compressed messages) takes the lock: correctness over speed.
func needsLock(message []byte) bool {
	if opCode(message) != opMsg {
		return opCode(message) != 2004 // OP_QUERY is only used for the legacy handshake
	}
	name, ok := commandName(message)
	if !ok {
		return true
	}
	return !lockFree[name]
}

// commandName returns the first key of the OP_MSG body section (kind 0), which names the command.
func commandName(message []byte) (string, bool) {
	// header (16) + flagBits (4), then sections; the body section is normally first.
	pos := 20
	for pos < len(message) {
		kind := message[pos]
		pos++
		if kind == 0 {
			// BSON document: int32 length, then elements: type byte, cstring name, value.
			if pos+5 > len(message) {
				return "", false
			}
			start := pos + 5 // skip length and the first element's type byte
			for end := start; end < len(message); end++ {
				if message[end] == 0 {
					return string(message[start:end]), true
				}
			}
			return "", false
		}
		if kind == 1 {
			if pos+4 > len(message) {
				return "", false
			}
			size := int(binary.LittleEndian.Uint32(message[pos : pos+4]))
			pos += size
			continue
		}
		return "", false
	}
	return "", false
}
