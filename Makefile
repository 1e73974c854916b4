# gridbox — see README.md. `make run` and `make test` are the two commands.
GO      ?= go
DATA    ?= data/demo
LISTEN  ?= :8080
TLS_LISTEN ?= :8443
export GOFLAGS ?= -buildvcs=false

.PHONY: build run test test-deps bench vet images clean demo-cluster

build:
	$(GO) build -trimpath -o bin/gridbox ./appliance/cmd/gridbox

run: build
	@test -e $(DATA)/gridbox.db || { rm -rf $(DATA).new && ./bin/gridbox demo --data $(DATA).new && mv $(DATA).new $(DATA); }
	./bin/gridbox serve --data $(DATA) --listen $(LISTEN) --tls-listen $(TLS_LISTEN)

# test-deps installs missing test tools (as root, with apt-get) and starts CUPS.
test: build test-deps
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 25m ./...

test-deps:
	@bash .ci/install-deps

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# images cross-builds the static binaries for the boxes (see images/README.md).
images:
	bash images/build.sh

# One town and three village boxes on this machine, enrolled and syncing.
demo-cluster: build
	./replicate/demo-cluster.sh

clean:
	rm -rf bin dist
