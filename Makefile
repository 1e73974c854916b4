# gridbox — see README.md. `make run` and `make test` are the two commands.
GO      ?= go
DATA    ?= data/demo
LISTEN  ?= :8080
TLS_LISTEN ?= :8443
export GOFLAGS ?= -buildvcs=false

.PHONY: build run test test-deps bench fuzz vet images image boot-test clean demo-cluster guide-screens

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

# fuzz runs every fuzz target of every package (found with go test -list,
# so new ones join by themselves) for FUZZTIME each, one after another;
# FUZZ=regexp picks targets by name, FUZZFLAGS adds flags (e.g. -parallel 1).
# Inputs that fail are written to the package's testdata/fuzz/ (commit them).
FUZZTIME  ?= 10s
FUZZ      ?= .
FUZZFLAGS ?=
fuzz:
	@list=$$($(GO) test -list '^Fuzz' ./...) || { echo "$$list"; exit 1; }; \
	targets=$$(echo "$$list" | awk '/^Fuzz/ { names = names " " $$1; next } $$1 == "ok" { n = split(names, a, " "); for (i = 1; i <= n; i++) print $$2 ":" a[i]; names = "" }' | grep -E ':.*$(FUZZ)' || true); \
	test -n "$$targets" || { echo "no fuzz target matches FUZZ=$(FUZZ)"; exit 1; }; \
	for t in $$targets; do \
		echo "== $${t##*:} in $${t%%:*} for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$${t##*:}$$" -fuzztime $(FUZZTIME) $(FUZZFLAGS) "$${t%%:*}" || exit 1; \
	done

# guide-screens writes the screenshots of the guides (docs/guide-duty.md,
# docs/guide-install.md) into docs/img/guide with the browser tests that
# take them; commit them when the pages change.
guide-screens:
	GRIDBOX_SCREENSHOTS=$(CURDIR)/docs/img/guide $(GO) test -count=1 -run 'TestDutyGuideScreens|TestSetupPageBrowser' ./ui

# images cross-builds the static binaries for the boxes (see images/README.md).
images:
	bash images/build.sh

# image builds the boxes' root file systems (root, debootstrap; minutes to
# hours, not part of make test); boot-test boots one in QEMU (ARCH=arm64
# for the ARM one).
ARCHS ?= amd64 arm64
ARCH ?= amd64
image: images
	for a in $(ARCHS); do nice -n 10 bash images/build-image.sh $$a dist/gridbox-rootfs-$$a.tar.gz || exit 1; done

boot-test:
	ARCH=$(ARCH) nice -n 10 bash images/boot-test.sh dist/gridbox-rootfs-$(ARCH).tar.gz dist/gridbox-linux-$(ARCH)

# One town and three village boxes on this machine, enrolled and syncing.
demo-cluster: build
	./replicate/demo-cluster.sh

clean:
	rm -rf bin dist
