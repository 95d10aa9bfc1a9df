#!/bin/sh
# Runs every fuzz target (or the ones named) for SECONDS each (default 600), $FUZZ_JOBS at a
# time (default 2), seeded from the small committed corpora in fuzz/corpus/; new inputs go to
# $FUZZ_WORK (default /tmp/ubiq-fuzz), crashes to fuzz/artifacts/. Prints each target's last
# libFuzzer status line, or where its crash is. Needs cargo-fuzz and a nightly toolchain:
#   cargo install cargo-fuzz && rustup toolchain install nightly
#   scripts/fuzz.sh 600 scene_parse command_parse
set -u
cd "$(dirname "$0")/../fuzz" || exit 1
seconds=${1:-600}
[ $# -gt 0 ] && shift
targets=${*:-"scene_parse command_parse midi_import audio_decode session_log"}
work=${FUZZ_WORK:-/tmp/ubiq-fuzz}
jobs=${FUZZ_JOBS:-2}
cargo +nightly fuzz build --release || exit 1
run() {
    mkdir -p "$work/$1"
    if cargo +nightly fuzz run --release "$1" "$work/$1" "corpus/$1" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
        > "$work/$1.log" 2>&1; then
        echo "$1: $(grep -E '^#[0-9]+' "$work/$1.log" | tail -1)"
        grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "$work/$1.log" | tr -s ' \n' '  '
        echo
    else
        echo "$1: FAILED, see $work/$1.log and fuzz/artifacts/$1/"
        status=1
    fi
}
status=0
set -- $targets
while [ $# -gt 0 ]; do
    n=0
    while [ $# -gt 0 ] && [ $n -lt "$jobs" ]; do
        run "$1" &
        shift
        n=$((n + 1))
    done
    wait
done
exit $status
