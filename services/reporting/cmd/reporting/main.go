// Command reporting runs the reporting service. Configure it with flags or NRM_* variables;
// --help lists them.
package main

import (
	"github.com/nrm-albania/nrm/services/platform/app"
	"github.com/nrm-albania/nrm/services/reporting"
)

func main() {
	var svc reporting.Service
	app.Main(reporting.Defaults(), svc.Setup, svc.Bind)
}
