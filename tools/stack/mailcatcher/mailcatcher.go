// Package mailcatcher is the development mail server of `make run`: an SMTP server that accepts
// every message for every address, delivers nothing, and keeps each message as an .eml file,
// with a small web page to read them. The secretariat's invitations and reminders land there,
// so that a person (or a test) can see what the system sent.
package mailcatcher

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// maxMessageBytes is the largest message accepted: minutes with their attachments fit.
const maxMessageBytes = 32 << 20

// Catcher is a running mail catcher.
type Catcher struct {
	// SMTPAddr is where the SMTP server listens, URL the web page, Dir the .eml files.
	SMTPAddr, URL, Dir string

	smtp *smtp.Server
	web  *http.Server
	wg   sync.WaitGroup

	mu  sync.Mutex
	seq int // messages kept since the start
}

// Start serves SMTP on smtpAddr and the web page on httpAddr (host:port; port 0 for a free
// one), keeping the messages under dir, which it creates.
func Start(dir, smtpAddr, httpAddr string) (_ *Catcher, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("mail catcher: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("mail catcher: %w", err)
	}
	sl, err := net.Listen("tcp", smtpAddr)
	if err != nil {
		root.Close()
		return nil, fmt.Errorf("mail catcher SMTP on %s: %w", smtpAddr, err)
	}
	hl, err := net.Listen("tcp", httpAddr)
	if err != nil {
		root.Close()
		sl.Close()
		return nil, fmt.Errorf("mail catcher web page on %s: %w", httpAddr, err)
	}
	c := &Catcher{SMTPAddr: sl.Addr().String(), URL: "http://" + hl.Addr().String() + "/", Dir: dir}
	c.smtp = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{c: c}, nil }))
	c.smtp.Domain = "nrm-mailcatcher"
	c.smtp.MaxMessageBytes = maxMessageBytes
	c.smtp.ReadTimeout, c.smtp.WriteTimeout = time.Minute, time.Minute
	c.smtp.AllowInsecureAuth = true // a login is accepted, in clear, whatever it is: nothing is at stake
	c.smtp.ErrorLog = log.New(io.Discard, "", 0)
	c.web = &http.Server{Handler: handler(root), ReadHeaderTimeout: 10 * time.Second}
	c.wg.Go(func() { _ = c.smtp.Serve(sl) })
	c.wg.Go(func() {
		defer root.Close()
		_ = c.web.Serve(hl)
	})
	return c, nil
}

// Stop closes both servers and waits for them.
func (c *Catcher) Stop() {
	_ = c.smtp.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.web.Shutdown(ctx)
	c.wg.Wait()
}

// keep writes one received message. The file is written under a temporary name and renamed,
// so that a reader of the directory never sees half a message. Its name is the arrival time
// (UTC, to the nanosecond) and a counter, so that names sort by arrival and never collide
// (the counter within a run, the time across runs).
func (c *Catcher) keep(from string, to []string, data []byte) error {
	var b bytes.Buffer
	// Trace fields, as a delivering server adds them: the envelope, which the headers need
	// not repeat (a Bcc, say).
	fmt.Fprintf(&b, "Return-Path: <%s>\r\n", from)
	for _, t := range to {
		fmt.Fprintf(&b, "Delivered-To: %s\r\n", t)
	}
	b.Write(data)

	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	name := fmt.Sprintf("%s-%06d.eml", time.Now().UTC().Format("20060102T150405.000000000Z"), c.seq)
	tmp := filepath.Join(c.Dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, b.Bytes(), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(c.Dir, name))
}

type session struct {
	c    *Catcher
	from string
	to   []string
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, _, _ string) error { return nil }), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if len(s.to) == 0 {
		return errors.New("no recipients")
	}
	if err := s.c.keep(s.from, s.to, data); err != nil {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "could not keep the message: " + err.Error()}
	}
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }
