# Smart Pass. `make run` builds everything and starts a demo server;
# `make test` is what CI runs. See README.md.

GO      ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
BIN     := bin
LDFLAGS := -X main.version=$(VERSION)
# Where `go install` puts test tools, kept inside the checkout.
TOOLS   := $(CURDIR)/$(BIN)/tools
WASMBROWSERTEST := github.com/agnivade/wasmbrowsertest@v0.11.0

.PHONY: all build wasm server run test check fmt-check vet test-native test-wasm bench soak clean

all: build

build: wasm server

wasm:
	GOOS=js GOARCH=wasm $(GO) build -trimpath -o assets/app.wasm ./wasm
	gzip -9 -k -f assets/app.wasm

server:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/smartpass-server ./server

run: build
	$(BIN)/smartpass-server -demo -dev -data ./data -assets ./assets

# The full check: formatting, vet (native and js/wasm), native tests
# (including the browser end-to-end tests), and the wasm packages' tests
# inside headless Chromium.
test: fmt-check vet test-native test-wasm

fmt-check:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet ./wasm/... ./app/...

test-native:
	$(GO) test -count=1 -timeout 15m ./...

$(TOOLS)/go_js_wasm_exec:
	GOBIN=$(TOOLS) $(GO) install $(WASMBROWSERTEST)
	mv $(TOOLS)/wasmbrowsertest $(TOOLS)/go_js_wasm_exec

test-wasm: $(TOOLS)/go_js_wasm_exec
	PATH="$(TOOLS):$$PATH" GOOS=js GOARCH=wasm $(GO) test -count=1 -timeout 5m ./wasm/...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

soak:
	@echo "no soak tests yet"

clean:
	rm -rf $(BIN) assets/app.wasm assets/app.wasm.gz
