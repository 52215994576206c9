package mail

import (
	"errors"
	"fmt"
	"net/mail"
	"time"

	"github.com/nrm-albania/nrm/services/platform/config"
)

// Settings are the mail settings of the secretariat, NRM_SMTP_*.
type Settings struct {
	SMTP SMTP
	// From is the sender of every notice.
	From string
}

// Bind registers the settings on set.
//
// NRM_SMTP_TLS defaults to starttls: mail to a server elsewhere is encrypted or not sent, and a
// mail catcher on the same machine (make run's, on 127.0.0.1) is served in clear, as it offers
// no TLS. With NRM_SMTP_ADDR empty, the default, mail is off: notices are still kept, shown in
// the in-app inbox, and wait until a server is configured.
func (s *Settings) Bind(set *config.Set) {
	set.String(&s.SMTP.Addr, "smtp-addr", "", "mail server host:port for notices; empty: no e-mail, notices wait in the in-app inbox")
	set.String(&s.From, "smtp-from", "secretariat@nrm.local", "sender address of the secretariat's notices")
	set.String(&s.SMTP.Username, "smtp-username", "", "login at the mail server (PLAIN, over TLS or to a loopback address only); empty: no login")
	set.String(&s.SMTP.PasswordFile, "smtp-password-file", "", "file holding the mail server password, read at each send")
	set.String(&s.SMTP.HelloName, "smtp-hello-name", "", "name the service gives in EHLO; empty: localhost")
	set.String(&s.SMTP.TLS, "smtp-tls", TLSStartTLS,
		"none, starttls (required, except to a loopback address) or tls (implicit, port 465)")
	set.Duration(&s.SMTP.Timeout, "smtp-timeout", 30*time.Second, "time allowed for one delivery, from connecting to the end")
	set.RequireOneOf("smtp-tls", &s.SMTP.TLS, TLSNone, TLSStartTLS, TLSImplicit)
	set.RequirePositive("smtp-timeout", &s.SMTP.Timeout)
	set.Check(s.check)
}

func (s *Settings) check() error {
	var errs []error
	if a, err := mail.ParseAddress(s.From); err != nil || a.Address != s.From {
		errs = append(errs, fmt.Errorf("%s: %q is not an e-mail address", config.EnvName("smtp-from"), s.From))
	}
	if s.SMTP.Addr != "" {
		if err := config.CheckAddr("smtp-addr", s.SMTP.Addr); err != nil {
			errs = append(errs, err)
		}
	}
	if s.SMTP.Username != "" && s.SMTP.PasswordFile == "" {
		errs = append(errs, fmt.Errorf("%s is set: %s must name the password's file",
			config.EnvName("smtp-username"), config.EnvName("smtp-password-file")))
	}
	return errors.Join(errs...)
}

// Sender is the configured mail server, or nil when mail is off.
func (s *Settings) Sender() Sender {
	if s.SMTP.Addr == "" {
		return nil
	}
	return &s.SMTP
}
