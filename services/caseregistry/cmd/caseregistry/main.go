// Command caseregistry runs the case registry service. Configure it with flags or NRM_*
// variables; --help lists them.
package main

import (
	"github.com/nrm-albania/nrm/services/caseregistry"
	"github.com/nrm-albania/nrm/services/platform/app"
)

func main() {
	var svc caseregistry.Service
	app.Main(caseregistry.Defaults(), svc.Setup, svc.Bind)
}
