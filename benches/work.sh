# The working folder and binary of the scale and stability scripts (sourced, not run):
#   bench_setup
# sets WORK to $KEEP (made if missing, kept afterwards) or to a temporary folder removed on exit,
# and builds diaoyan in release when BIN is the default target/release/diaoyan.
bench_setup() {
  if [ -n "${KEEP:-}" ]; then
    WORK=$KEEP
    mkdir -p "$WORK"
  else
    WORK=$(mktemp -d)
    trap 'rm -rf "$WORK"' EXIT
  fi
  if [ "$BIN" = target/release/diaoyan ]; then
    cargo build --release --quiet
  fi
}
