module github.com/nrm-albania/nrm/tools

go 1.26

require (
	github.com/nrm-albania/nrm/gateway v0.0.0
	github.com/nrm-albania/nrm/proto v0.0.0
	github.com/nrm-albania/nrm/services/caseregistry v0.0.0
	github.com/nrm-albania/nrm/services/platform v0.0.0
	github.com/nrm-albania/nrm/services/referral v0.0.0
	github.com/nrm-albania/nrm/services/reporting v0.0.0
	github.com/nrm-albania/nrm/services/secretariat v0.0.0
)

replace github.com/nrm-albania/nrm/proto => ../proto

replace github.com/nrm-albania/nrm/services/platform => ../services/platform

replace github.com/nrm-albania/nrm/services/caseregistry => ../services/caseregistry

replace github.com/nrm-albania/nrm/services/referral => ../services/referral

replace github.com/nrm-albania/nrm/services/secretariat => ../services/secretariat

replace github.com/nrm-albania/nrm/services/reporting => ../services/reporting

replace github.com/nrm-albania/nrm/gateway => ../gateway
