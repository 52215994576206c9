package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"os"
	"strings"
	"time"
)

// Sender hands a rendered message to a mail server for one recipient. from and to are bare
// addresses (the SMTP envelope), raw is what Message.Render returned.
type Sender interface {
	Send(ctx context.Context, from, to string, raw []byte) error
}

// ErrRejected marks a refusal that repeating will not change: the server answered the
// recipient or the message with a permanent (5xx) reply. Anything else, the server down or
// busy, a refused login, a timeout, may succeed later.
var ErrRejected = errors.New("refused for good by the mail server")

// The ways SMTP.TLS protects the connection.
const (
	// TLSNone never encrypts. Only for a mail server on the same machine or network segment.
	TLSNone = "none"
	// TLSStartTLS upgrades the connection with STARTTLS and refuses a server that does not
	// offer it, except on a loopback address, where nothing travels over a network and a local
	// mail catcher without TLS is served in clear.
	TLSStartTLS = "starttls"
	// TLSImplicit speaks TLS from the first byte (port 465, "SMTPS").
	TLSImplicit = "tls"
)

// SMTP sends through a mail server.
type SMTP struct {
	// Addr is the server, host:port.
	Addr string
	// Username, when set, logs in with PLAIN, whose password travels as is: so only over TLS
	// or to a loopback address. PasswordFile holds the password and is read at each send, so
	// that a rotated secret is picked up without a restart.
	Username, PasswordFile string
	// HelloName is the name given in EHLO; "" says "localhost", which some servers refuse.
	HelloName string
	// TLS is TLSNone, TLSStartTLS or TLSImplicit.
	TLS string
	// RootCAs verify the server's certificate; nil means the system's (SSL_CERT_FILE,
	// SSL_CERT_DIR).
	RootCAs *x509.CertPool
	// Timeout bounds a whole delivery, from dialling to QUIT; the context may end it earlier.
	Timeout time.Duration
}

// Send delivers raw to one recipient.
func (s *SMTP) Send(ctx context.Context, from, to string, raw []byte) error {
	if s.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.Timeout)
		defer cancel()
	}
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return fmt.Errorf("smtp server %q: %w", s.Addr, err)
	}
	tlsConfig := &tls.Config{ServerName: host, RootCAs: s.RootCAs, MinVersion: tls.VersionTLS12}
	conn, err := s.dial(ctx, tlsConfig)
	if err != nil {
		return fmt.Errorf("smtp server %s: %w", s.Addr, err)
	}
	// net/smtp knows no contexts: the connection's deadline bounds every step, and the
	// context's end cuts it short.
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	if err := s.deliver(conn, host, tlsConfig, from, to, raw); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			<-ctx.Done() // the connection's deadline is the context's, whose timer may lag a little
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		return fmt.Errorf("smtp server %s, message to %s: %w", s.Addr, to, err)
	}
	return nil
}

func (s *SMTP) dial(ctx context.Context, tlsConfig *tls.Config) (net.Conn, error) {
	d := &net.Dialer{}
	if s.TLS == TLSImplicit {
		return (&tls.Dialer{NetDialer: d, Config: tlsConfig}).DialContext(ctx, "tcp", s.Addr)
	}
	return d.DialContext(ctx, "tcp", s.Addr)
}

func (s *SMTP) deliver(conn net.Conn, host string, tlsConfig *tls.Config, from, to string, raw []byte) error {
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("greeting: %w", err)
	}
	defer c.Close()
	if s.HelloName != "" {
		if err := c.Hello(s.HelloName); err != nil {
			return fmt.Errorf("EHLO: %w", err)
		}
	}
	if s.TLS == TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tlsConfig); err != nil {
				return fmt.Errorf("STARTTLS: %w", err)
			}
		} else if !isLoopback(host) {
			return errors.New("the server does not offer STARTTLS; NRM_SMTP_TLS=none would send in clear")
		}
	}
	if s.Username != "" {
		password, err := os.ReadFile(s.PasswordFile)
		if err != nil {
			return fmt.Errorf("the SMTP password: %w", err)
		}
		// PlainAuth itself refuses a connection that is neither TLS nor to localhost.
		if err := c.Auth(smtp.PlainAuth("", s.Username, strings.TrimSpace(string(password)), host)); err != nil {
			return fmt.Errorf("login as %s: %w", s.Username, err)
		}
	}
	if err := c.Mail(from); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("RCPT TO: %w", permanent(err))
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(raw); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	// The server accepts or refuses the message when its data ends.
	if err := w.Close(); err != nil {
		return fmt.Errorf("end of DATA: %w", permanent(err))
	}
	// The message is accepted: a failed QUIT changes nothing.
	_ = c.Quit()
	return nil
}

// permanent marks a 5xx reply to the recipient or the message as ErrRejected. A 5xx to MAIL
// FROM or to the login is left transient: it says the configuration is wrong, which is fixed
// by the operator, after which the notices must still go out.
func permanent(err error) error {
	var reply *textproto.Error
	if errors.As(err, &reply) && reply.Code >= 500 {
		return fmt.Errorf("%w: %w", ErrRejected, err)
	}
	return err
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
