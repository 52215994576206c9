package mail

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nrm-albania/nrm/services/platform/config"
	"github.com/nrm-albania/nrm/services/secretariat/internal/mail/mailtest"
)

func passwordFile(t *testing.T, password string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "smtp-password")
	if err := os.WriteFile(f, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestSMTPDelivers(t *testing.T) {
	tests := []struct {
		name   string
		server mailtest.Options
		client func(*SMTP, *mailtest.Server)
	}{
		{"in clear to a loopback catcher, by default", mailtest.Options{}, func(*SMTP, *mailtest.Server) {}},
		{"with STARTTLS and a login", mailtest.Options{TLS: true, Username: "sekretaria", Password: "s3cret"}, func(c *SMTP, s *mailtest.Server) {
			c.RootCAs, c.Username, c.PasswordFile = s.RootCAs, "sekretaria", passwordFile(t, "s3cret")
		}},
		{"with a login in clear to a loopback address", mailtest.Options{Username: "u", Password: "p"}, func(c *SMTP, _ *mailtest.Server) {
			c.TLS, c.Username, c.PasswordFile = TLSNone, "u", passwordFile(t, "p")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mailtest.Start(t, tt.server)
			c := &SMTP{Addr: srv.Addr, TLS: TLSStartTLS, HelloName: "nrm-secretariat.test", Timeout: 10 * time.Second}
			tt.client(c, srv)
			raw, err := notice().Render(time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Send(t.Context(), "secretariat@nrm.local", "perfaqesuesi@asp.gov.al", raw); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := srv.Messages()
			if len(got) != 1 || got[0].From != "secretariat@nrm.local" || got[0].To != "perfaqesuesi@asp.gov.al" {
				t.Fatalf("the server received %+v", got)
			}
			if string(got[0].Data) != string(raw) {
				t.Errorf("the message changed on the way")
			}
		})
	}
}

func TestSMTPFailures(t *testing.T) {
	tests := []struct {
		name      string
		server    mailtest.Options
		client    func(*SMTP, *mailtest.Server)
		rejected  bool
		errorSays string
	}{
		{"a recipient refused for good", mailtest.Options{Reject: func(string) bool { return true }}, func(*SMTP, *mailtest.Server) {}, true, "RCPT TO"},
		{"a wrong password: fixed by the operator, so not for good", mailtest.Options{Username: "u", Password: "p"},
			func(c *SMTP, _ *mailtest.Server) {
				c.TLS, c.Username, c.PasswordFile = TLSNone, "u", passwordFile(t, "wrong")
			}, false, "login"},
		{"a missing password file", mailtest.Options{Username: "u", Password: "p"},
			func(c *SMTP, _ *mailtest.Server) {
				c.Username, c.PasswordFile = "u", filepath.Join(t.TempDir(), "none")
			}, false, "password"},
		{"a login required and not configured", mailtest.Options{Username: "u", Password: "p"}, func(*SMTP, *mailtest.Server) {}, false, "MAIL FROM"},
		{"the server down", mailtest.Options{}, func(_ *SMTP, s *mailtest.Server) { s.Stop() }, false, "refused"},
		{"a certificate nobody vouches for", mailtest.Options{TLS: true}, func(*SMTP, *mailtest.Server) {}, false, "STARTTLS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mailtest.Start(t, tt.server)
			c := &SMTP{Addr: srv.Addr, TLS: TLSStartTLS, Timeout: 10 * time.Second}
			tt.client(c, srv)
			raw, _ := notice().Render(time.Now())
			err := c.Send(t.Context(), "secretariat@nrm.local", "perfaqesuesi@asp.gov.al", raw)
			if err == nil || !strings.Contains(err.Error(), tt.errorSays) {
				t.Fatalf("error %v, want one saying %q", err, tt.errorSays)
			}
			if errors.Is(err, ErrRejected) != tt.rejected {
				t.Errorf("ErrRejected: %v, want %v (%v)", !tt.rejected, tt.rejected, err)
			}
			if n := len(srv.Messages()); n != 0 {
				t.Errorf("%d messages delivered", n)
			}
		})
	}
}

func TestSMTPHonoursTheContextDeadline(t *testing.T) {
	// A server that accepts the connection and never says a word.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	c := &SMTP{Addr: l.Addr().String(), TLS: TLSNone, Timeout: time.Minute}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = c.Send(ctx, "secretariat@nrm.local", "a@b.al", []byte("x"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want the context's deadline", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Send took %s after a 200ms deadline", d)
	}
}

func TestSettings(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		errorSays string
		sender    bool
	}{
		{"the defaults: mail off", nil, "", false},
		{"a server", map[string]string{"NRM_SMTP_ADDR": "127.0.0.1:1025"}, "", true},
		{"a server with a login", map[string]string{"NRM_SMTP_ADDR": "mail.gov.al:587", "NRM_SMTP_USERNAME": "nrm",
			"NRM_SMTP_PASSWORD_FILE": "/run/secrets/smtp", "NRM_SMTP_TLS": "starttls"}, "", true},
		{"a login without a password", map[string]string{"NRM_SMTP_ADDR": "mail.gov.al:587", "NRM_SMTP_USERNAME": "nrm"}, "NRM_SMTP_PASSWORD_FILE", false},
		{"an address without a port", map[string]string{"NRM_SMTP_ADDR": "mail.gov.al"}, "NRM_SMTP_ADDR", false},
		{"an unknown TLS mode", map[string]string{"NRM_SMTP_TLS": "ssl"}, "NRM_SMTP_TLS", false},
		{"a sender that is not an address", map[string]string{"NRM_SMTP_FROM": "Sekretaria"}, "NRM_SMTP_FROM", false},
		{"no time to send", map[string]string{"NRM_SMTP_TIMEOUT": "0s"}, "NRM_SMTP_TIMEOUT", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Settings
			err := config.Apply("secretariat", tt.env, s.Bind)
			if tt.errorSays != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errorSays) {
					t.Fatalf("error %v, want one naming %s", err, tt.errorSays)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (s.Sender() != nil) != tt.sender {
				t.Errorf("sender %v, want one: %v", s.Sender(), tt.sender)
			}
			if s.From == "" || s.SMTP.TLS != TLSStartTLS || s.SMTP.Timeout <= 0 {
				t.Errorf("defaults missing: %+v", s)
			}
		})
	}
}
