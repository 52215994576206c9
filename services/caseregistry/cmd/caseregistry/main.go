// Command caseregistry runs the case registry service. Configure it with flags or NRM_*
// variables; --help lists them.
package main

import (
	"github.com/nrm-albania/nrm/services/caseregistry"
	"github.com/nrm-albania/nrm/services/platform/app"
)

func main() { app.Main(caseregistry.Defaults(), caseregistry.Setup) }
