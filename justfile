# The workshop's front door: `just` lists the recipes.
# Install just in seconds with `pip install rust-just` (or `cargo install
# just`). Every recipe runs on Linux with a Rust toolchain; recipes that
# need system packages say which.
#
# Recipes do not echo their commands (`set quiet`), and their arguments
# reach the commands as they were given, one word each ("$@" with
# `set positional-arguments`), never through the shell's parsing.

set shell := ["bash", "-euo", "pipefail", "-c"]
set quiet
set positional-arguments

[private]
default:
    just --list --unsorted

# Build the workshop ahead of `just demo`, with progress
[group('workshop')]
setup: _toolchain
    cargo build --package workshop --package checker --package demo-spawner
    echo "Ready: 'just demo' starts the walk, 'just spawn' the article's program."

# Walk through the article live on this kernel
[group('workshop')]
demo *ARGS: _toolchain (_built "workshop")
    cargo run --quiet --package workshop -- "$@"

# Run one step of the walk, 1 to 7: just step 3
[group('workshop')]
step N: _toolchain (_built "workshop")
    cargo run --quiet --package workshop -- --step "$1"

# Step 6, kernel stacks: built as you, run under sudo
[group('workshop')]
trace *ARGS: _toolchain (_built "workshop")
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build --quiet --package workshop
    workshop="${CARGO_TARGET_DIR:-target}/debug/workshop"
    if [ "$(id -u)" -eq 0 ]; then
        exec "$workshop" --step 6 "$@"
    fi
    if ! command -v sudo >/dev/null; then
        echo "just trace: step 6 needs root, and sudo is not installed; run '$workshop --step 6' as root" >&2
        exit 3
    fi
    exec sudo -- "$workshop" --step 6 "$@"

# Check every claim on this kernel, on a demo process
[group('workshop')]
check *ARGS: _toolchain (_built "checker")
    cargo run --quiet --package checker -- "$@"

# Check the claims on a process of yours: check-pid 1234
[group('workshop')]
check-pid PID *ARGS: _toolchain (_built "checker")
    cargo run --quiet --package checker -- --pid "$@"

# The article's program: prints TIDs; q or Ctrl-C stops
[group('workshop')]
spawn *ARGS: _toolchain (_built "demo-spawner")
    cargo run --quiet --package demo-spawner -- "$@"

# Build the book into book/build; a warning fails
[group('book')]
book: _toolchain
    .ci/book build

# Serve the book on http://localhost:3000, live
[group('book')]
serve: _toolchain
    .ci/book serve

# Check the built book's pages in headless Chromium
[group('book')]
book-browser: _toolchain
    .ci/book browser

# Compare the book's kernel excerpts with the source
[group('book')]
excerpts *ARGS: _toolchain
    cargo xtask excerpts "$@"

# Claims on Debian's, source-built and mutant kernels
[group('kernels')]
matrix *ARGS: _toolchain
    cargo xtask matrix "$@"

# The matrix a process per slice, then merged, as CI runs it
[group('kernels')]
matrix-fanout *ARGS: _toolchain
    .ci/matrix "$@"

# Build Linux from matrix/kernel-source, and mutants
[group('kernels')]
kernel *ARGS: _toolchain
    cargo xtask kernel "$@"

# The whole test suite (the README's second command)
[group('dev')]
test *ARGS: _toolchain
    cargo test --workspace "$@"

# Time the checker and its audit against bare system calls and unhide
[group('dev')]
bench: _toolchain
    cargo bench --package tests --bench bench --bench audit

# Review changed snapshots (needs cargo-insta)
[group('dev')]
review: _toolchain
    cargo insta review

# Everything CI runs: lint, tests, book, kernels
[group('dev')]
ci: _toolchain
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

# The first run of a fresh clone builds for a minute: say so, and show
# cargo's progress instead of a silent wait
_built PACKAGE:
    #!/usr/bin/env bash
    set -euo pipefail
    if [ ! -x "${CARGO_TARGET_DIR:-target}/debug/$1" ]; then
        echo "First run: building $1 with cargo (about 20 s; 'just setup' does it ahead)" >&2
        cargo build --package "$1"
    fi
