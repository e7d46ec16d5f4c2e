# The workshop's front door: `just` lists the recipes.
# Install just in seconds with `pipx install rust-just` (or `cargo install
# just`). Every recipe runs on Linux with a Rust toolchain and a C linker;
# recipes that need system packages say which.
#
# Recipes do not echo their commands (`set quiet`), and their arguments
# reach the commands as they were given, one word each ("$@" with
# `set positional-arguments`), never through the shell's parsing.
#
# `[no-exit-message]`: the programs say what went wrong in their own one
# line (or cargo in its own words), so `just` adds no "error: recipe ...
# failed" after it, nor "terminated by signal 2" after a Ctrl-C.

set shell := ["bash", "-euo", "pipefail", "-c"]
set quiet
set positional-arguments

[private]
default:
    just --list --unsorted

# Build the workshop ahead of `just demo`, with progress
[group('workshop')]
[no-exit-message]
setup: _toolchain
    cargo build --package workshop --package checker --package demo-spawner
    echo "Ready: 'just demo' starts the walk, 'just spawn' the article's program."

# Walk through the article live on this kernel
[group('workshop')]
[no-exit-message]
demo *ARGS: _toolchain (_built "workshop")
    cargo run --quiet --package workshop -- "$@"

# Run one step of the walk, 1 to 7: just step 3
[group('workshop')]
[no-exit-message]
step N: _toolchain (_built "workshop")
    cargo run --quiet --package workshop -- --step "$1"

# Step 6, kernel stacks: built as you, run under sudo
[group('workshop')]
[no-exit-message]
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
[no-exit-message]
check *ARGS: _toolchain (_built "checker")
    cargo run --quiet --package checker -- "$@"

# Check the claims on a process of yours: check-pid 1234
[group('workshop')]
[no-exit-message]
check-pid PID *ARGS: _toolchain (_built "checker")
    cargo run --quiet --package checker -- --pid "$@"

# The article's program: prints TIDs; q or Ctrl-C stops
[group('workshop')]
[no-exit-message]
spawn *ARGS: _toolchain (_built "demo-spawner")
    cargo run --quiet --package demo-spawner -- "$@"

# Build the book into book/build; a warning fails
[group('book')]
[no-exit-message]
book: _toolchain
    .ci/book build

# Serve the book on http://localhost:3000, live
[group('book')]
[no-exit-message]
serve: _toolchain
    .ci/book serve

# Check the built book's pages in headless Chromium
[group('book')]
[no-exit-message]
book-browser: _toolchain
    .ci/book browser

# Compare the book's kernel excerpts with the source
[group('book')]
[no-exit-message]
excerpts *ARGS: _toolchain
    cargo xtask excerpts "$@"

# Claims on Debian's, source-built and mutant kernels
[group('kernels')]
[no-exit-message]
matrix *ARGS: _toolchain
    cargo xtask matrix "$@"

# The matrix, a process per slice, merged: as CI runs it
[group('kernels')]
[no-exit-message]
matrix-fanout *ARGS: _toolchain
    .ci/matrix "$@"

# Build Linux from matrix/kernel-source, and mutants
[group('kernels')]
[no-exit-message]
kernel *ARGS: _toolchain
    cargo xtask kernel "$@"

# The whole test suite (the README's second command)
[group('dev')]
[no-exit-message]
test *ARGS: _toolchain
    cargo test --workspace "$@"

# Time the checker and its audit against bare syscalls
[group('dev')]
[no-exit-message]
bench: _toolchain
    cargo bench --package tests --bench bench --bench audit

# Review changed snapshots (needs cargo-insta)
[group('dev')]
[no-exit-message]
review: _toolchain
    cargo insta review

# Everything CI runs: lint, tests, book, kernels
[group('dev')]
[no-exit-message]
ci: _toolchain
    .ci/run

# Hosts: time set-up, downloads and builds here
[group('workshop')]
[no-exit-message]
workshop-check: _toolchain
    .ci/workshop-check

# Say in one line everything that is missing (Rust, its version, the C
# linker it needs), with the commands that install it, instead of a
# wall of compile errors
[no-exit-message]
_toolchain:
    #!/usr/bin/env bash
    set -euo pipefail
    if [ "$(uname -s)" != Linux ]; then
        echo "this workshop needs Linux (/proc and its thread ids are Linux's); use a Linux VM or container" >&2
        exit 3
    fi
    missing=()
    fixes=()
    if ! command -v cargo >/dev/null || ! command -v rustc >/dev/null; then
        missing+=("cargo (Rust)")
        fixes+=("install Rust from https://rustup.rs")
    else
        need=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)
        have=$(rustc --version | cut -d' ' -f2)
        if [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -1)" != "$need" ]; then
            missing+=("Rust $need (this is $have)")
            fixes+=("rustup update")
        fi
    fi
    # Rust links with the system's C compiler, `cc`; rustup installs none.
    if ! command -v cc >/dev/null; then
        missing+=("cc (a C linker)")
        fixes+=("sudo apt install gcc, or sudo dnf install gcc")
    fi
    if [ ${#missing[@]} -gt 0 ]; then
        what=${missing[0]}
        if [ ${#missing[@]} -gt 1 ]; then
            what="$(IFS=,; echo "${missing[*]:0:${#missing[@]}-1}" | sed 's/,/, /g') and ${missing[-1]}"
        fi
        how=$(IFS=';'; echo "${fixes[*]}" | sed 's/;/; /g')
        echo "missing $what: $how" >&2
        exit 3
    fi

# The first run of a fresh clone builds first: say so, and show cargo's
# progress instead of a silent wait
[no-exit-message]
_built PACKAGE:
    #!/usr/bin/env bash
    set -euo pipefail
    if [ ! -x "${CARGO_TARGET_DIR:-target}/debug/$1" ]; then
        echo "First run: building $1 with cargo ('just setup' does it ahead)" >&2
        cargo build --package "$1"
    fi
