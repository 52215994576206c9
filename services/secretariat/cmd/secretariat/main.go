// Command secretariat runs the secretariat service. Configure it with flags or NRM_* variables;
// --help lists them.
package main

import (
	"github.com/nrm-albania/nrm/services/platform/app"
	"github.com/nrm-albania/nrm/services/secretariat"
)

func main() {
	var svc secretariat.Service
	app.Main(secretariat.Defaults(), svc.Setup, svc.Bind)
}
