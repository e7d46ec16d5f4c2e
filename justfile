# The workshop's front door: `just` lists the recipes.
# Install just in seconds with `pip install rust-just` (or `cargo install
# just`). Every recipe runs on Linux with a Rust toolchain; recipes that
# need system packages say which.

set shell := ["bash", "-euo", "pipefail", "-c"]

# List the recipes
default:
    @just --list --unsorted

# Walk through the article live on this kernel (--no-pause, --step N)
[group('workshop')]
demo *ARGS: _toolchain
    cargo run --quiet --package workshop -- {{ARGS}}

# Run one step of the walk, 1 to 7: just step 3
[group('workshop')]
step N: _toolchain
    cargo run --quiet --package workshop -- --step {{N}}

# Check the claims on this kernel, against a demo process of our own
[group('workshop')]
check *ARGS: _toolchain
    cargo run --quiet --package checker -- {{ARGS}}

# Check the claims on a process you already run: just check-pid 1234
[group('workshop')]
check-pid PID *ARGS: _toolchain
    cargo run --quiet --package checker -- --pid {{PID}} {{ARGS}}

# Run the article's program: prints its TIDs, waits for Ctrl-C
[group('workshop')]
spawn *ARGS: _toolchain
    cargo run --quiet --package demo-spawner -- {{ARGS}}

# Build the book into book/build; any mdBook error or warning fails
[group('book')]
book:
    .ci/book build

# Serve the book on http://localhost:3000, rebuilding on every change
[group('book')]
serve:
    .ci/book install
    mdbook serve book

# Check the built book in headless Chromium (includes, code, search)
[group('book')]
book-browser:
    .ci/book browser

# Compare every kernel excerpt of the book with Debian's linux-source
[group('book')]
excerpts *ARGS:
    cargo xtask excerpts {{ARGS}}

# Boot the checker on Debian's kernels, Linux built from source, its mutants (--image PATH for yours)
[group('kernels')]
matrix *ARGS:
    cargo xtask matrix {{ARGS}}

# Build Linux from matrix/kernel-source, and the mutant kernels
[group('kernels')]
kernel *ARGS:
    cargo xtask kernel {{ARGS}}

# The whole test suite (what the README's second command runs)
[group('dev')]
test:
    cargo test --workspace

# Time the checker against bare system calls and the article's method
[group('dev')]
bench:
    cargo bench --package tests --bench bench

# Review changed snapshots (cargo install cargo-insta)
[group('dev')]
review:
    cargo insta review

# Format, lint, test, excerpts and the book, as CI runs them
[group('dev')]
ci:
    .ci/run

# Say in one line what is missing instead of a wall of compile errors
_toolchain:
    #!/usr/bin/env bash
    set -euo pipefail
    if [ "$(uname -s)" != Linux ]; then
        echo "this workshop needs Linux (/proc and its thread ids are Linux's); use a Linux VM or container" >&2
        exit 3
    fi
    if ! command -v cargo >/dev/null; then
        echo "cargo not found: install Rust with https://rustup.rs" >&2
        exit 3
    fi
    need=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)
    have=$(rustc --version | cut -d' ' -f2)
    if [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -1)" != "$need" ]; then
        echo "Rust $have is older than the $need this project needs: run 'rustup update'" >&2
        exit 3
    fi
