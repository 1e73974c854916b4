# gridbox — see README.md. `make run` and `make test` are the two commands.
GO      ?= go
DATA    ?= data/demo
LISTEN  ?= :8080
export GOFLAGS ?= -buildvcs=false

.PHONY: build run test bench vet clean demo-cluster

build:
	$(GO) build -trimpath -o bin/gridbox ./appliance/cmd/gridbox

run: build
	@test -e $(DATA)/gridbox.db || ./bin/gridbox demo --data $(DATA)
	./bin/gridbox serve --data $(DATA) --listen $(LISTEN)

test: build
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 25m ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# One town and three village boxes on this machine, enrolled and syncing.
demo-cluster: build
	./scripts/demo-cluster.sh

clean:
	rm -rf bin dist
