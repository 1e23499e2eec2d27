# Shared by the bench scripts (sourced, not run).

# The address `workbench serve` printed to LOG ("listening on http://..."), waiting up to 10 s;
# on failure the log goes to stderr and the status is 1.
serve_address() {
  local log=$1 addr=
  for _ in $(seq 100); do
    addr=$(grep -o 'listening on http://[0-9.:]*' "$log" | sed 's#listening on ##' || true)
    if [ -n "$addr" ]; then
      echo "$addr"
      return 0
    fi
    sleep 0.1
  done
  cat "$log" >&2
  return 1
}
