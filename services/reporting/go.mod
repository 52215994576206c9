module github.com/nrm-albania/nrm/services/reporting

go 1.26

require (
	github.com/nrm-albania/nrm/proto v0.0.0
	github.com/nrm-albania/nrm/services/platform v0.0.0
)

replace github.com/nrm-albania/nrm/proto => ../../proto

replace github.com/nrm-albania/nrm/services/platform => ../../services/platform
