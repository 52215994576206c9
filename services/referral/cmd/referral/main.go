// Command referral runs the referral service. Configure it with flags or NRM_* variables; --help
// lists them.
package main

import (
	"github.com/nrm-albania/nrm/services/platform/app"
	"github.com/nrm-albania/nrm/services/referral"
)

func main() {
	var svc referral.Service
	app.Main(referral.Defaults(), svc.Setup, svc.Bind)
}
