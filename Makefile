# The two commands of the README. Each installs what it needs and is missing, then works.
.PHONY: run test tools

## Build the release site and serve it on http://127.0.0.1:3000 (SQLite in data/, dev mailbox).
run:
	scripts/run.sh

## Run every test: unit + integration (SQLite and PostgreSQL), page weight, browsers (3 engines + JS off).
test:
	scripts/test.sh

## Only install the tools (wasm target, cargo-leptos, wasm-bindgen-cli, wasm-opt, browsers, npm packages).
tools:
	scripts/install-tools.sh all
