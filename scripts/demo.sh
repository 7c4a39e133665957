#!/usr/bin/env bash
# The trip-booking demo, after a build: starts `baton serve` on the embedded
# store (./data), deploys the HTTP saga (examples/trip-booking/
# trip-booking.bpmn), starts the functions and the trip function, books
# two trips to show both endings (one booked, one compensated), prints what
# to try next, and runs until Ctrl-C, then stops everything.
#
#   scripts/demo.sh [--no-tour]
#
# Environment: BATON_BIN (default build/release/baton, else build/baton),
# BATON_PORT (8080), FUNCTIONS_PORT (8081), TRIP_PORT (8082), DATA (./data).
set -euo pipefail
cd "$(dirname "$0")/.."

TOUR=1
[ "${1:-}" = "--no-tour" ] && TOUR=0
BATON_PORT=${BATON_PORT:-8080}
FUNCTIONS_PORT=${FUNCTIONS_PORT:-8081}
TRIP_PORT=${TRIP_PORT:-8082}
DATA=${DATA:-data}
BATON=${BATON_BIN:-}
if [ -z "$BATON" ]; then
  for b in build/release/baton build/baton; do [ -x "$b" ] && BATON=$b && break; done
fi
if [ -z "$BATON" ] || [ ! -x "$BATON" ]; then
  echo "demo: no baton binary (build/release/baton); run scripts/run.sh, or set BATON_BIN" >&2
  exit 1
fi
command -v node >/dev/null || { echo "demo: node is needed (scripts/install-deps.sh installs it)" >&2; exit 1; }

BATON_URL=http://127.0.0.1:$BATON_PORT
FUNCTIONS_URL=http://127.0.0.1:$FUNCTIONS_PORT
TRIP_URL=http://127.0.0.1:$TRIP_PORT
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in "$BATON_PORT" "$FUNCTIONS_PORT" "$TRIP_PORT"; do
  if port_open "$port"; then
    echo "demo: port $port is taken; set BATON_PORT, FUNCTIONS_PORT or TRIP_PORT" >&2
    exit 1
  fi
done

# fetch METHOD URL [JSON]: prints the body; fails unless 2xx (node: no curl needed).
fetch() {
  node -e '
    const [method, url, body] = process.argv.slice(1);
    fetch(url, { method, body, headers: body ? { "Content-Type": "application/json" } : {} })
      .then(async (r) => { process.stdout.write(await r.text()); process.exit(r.ok ? 0 : 1); })
      .catch(() => process.exit(1));' "$@"
}

mkdir -p "$DATA/logs"
pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "Stopping..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "Stopped. The store is in $DATA/ (delete it to start afresh), the logs in $DATA/logs/."
}
trap stop EXIT
trap 'exit 130' INT TERM

"$BATON" serve --port "$BATON_PORT" --data "$DATA" >"$DATA/logs/baton.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  fetch GET "$BATON_URL/v2/status" >/dev/null 2>&1 && break
  sleep 0.1
done
fetch GET "$BATON_URL/v2/status" >/dev/null || { echo "demo: baton did not start; see $DATA/logs/baton.log" >&2; exit 1; }
"$BATON" deploy examples/trip-booking/trip-booking.bpmn --address "$BATON_URL"

PORT=$FUNCTIONS_PORT node examples/trip-booking/functions/functions.mjs >"$DATA/logs/functions.log" 2>&1 &
pids+=($!)
PORT=$TRIP_PORT BATON_URL=$BATON_URL FUNCTIONS_URL=$FUNCTIONS_URL \
  node examples/trip-booking/functions/trip.mjs >"$DATA/logs/trip.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  port_open "$FUNCTIONS_PORT" && port_open "$TRIP_PORT" && break
  sleep 0.1
done

# The tour: one trip booked, one whose flight is sold out (compensated).
show_trip() { # tripId
  local state="ACTIVE"
  for _ in $(seq 150); do
    state=$(fetch GET "$TRIP_URL/trip/$1" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const t=JSON.parse(s);process.stdout.write(t.hasIncident?"INCIDENT":t.state)})') || true
    [ "$state" = "COMPLETED" ] || [ "$state" = "INCIDENT" ] && break
    sleep 0.2
  done
  fetch GET "$FUNCTIONS_URL/bookings?tripId=$1" | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const { bookings, calls } = JSON.parse(s);
      console.log("    calls:    " + calls.map((c) => `${c.path.slice(1)} ${c.status}`).join(", "));
      console.log("    bookings: " + (bookings.map((b) => `${b.kind} ${b.status}`).join(", ") || "none"));
    });'
}
if [ "$TOUR" = 1 ]; then
  run=$(date +%H%M%S)
  echo
  echo "Booking two trips to show you around:"
  echo "  trip-$run-ok        $(fetch PUT "$TRIP_URL/trip/book" "{\"tripId\": \"trip-$run-ok\", \"traveller\": \"Ada\", \"destination\": \"Lisbon\", \"startDate\": \"2025-06-01\", \"endDate\": \"2025-06-05\"}")"
  show_trip "trip-$run-ok"
  echo "  trip-$run-sold-out  $(fetch PUT "$TRIP_URL/trip/book" "{\"tripId\": \"trip-$run-sold-out\", \"traveller\": \"Ada\", \"destination\": \"Lisbon\", \"simulate\": {\"flight\": {\"fail\": \"sold-out\"}}}")"
  show_trip "trip-$run-sold-out"
  echo "  The first ended at 'Trip booked'; the second's flight was sold out, so the"
  echo "  car, then the hotel, were cancelled, and it ended at 'Trip booking failed'."
fi

cat <<EOF

baton is running: $BATON_URL (store: $DATA/, logs: $DATA/logs/)
  web UI        $BATON_URL/
  functions     $FUNCTIONS_URL   (book/cancel hotel, car, flight; GET /bookings)
  trip function $TRIP_URL   (PUT /trip/book)

Book a trip:
  curl -X PUT $TRIP_URL/trip/book -H 'Content-Type: application/json' \\
    -d '{"tripId": "my-trip-1", "traveller": "Ada", "destination": "Lisbon", "startDate": "2025-06-01", "endDate": "2025-06-05"}'

Book one whose flight is sold out (compensation: car, then hotel, cancelled):
  curl -X PUT $TRIP_URL/trip/book -H 'Content-Type: application/json' \\
    -d '{"tripId": "my-trip-2", "traveller": "Ada", "destination": "Lisbon", "simulate": {"flight": {"fail": "sold-out"}}}'

More failures ("simulate", per function: hotel, car, flight):
  {"fail": 2}          the first 2 answers get lost: retried 2 s apart, booked once
  {"fail": "always"}   retries run out: an incident (examples/trip-booking/README.md
                       shows how to fix it and resolve it)
  {"slowMs": 3000}     answers after 3 s

Watch:
  curl $TRIP_URL/trip/my-trip-1                     the trip's state
  curl "$FUNCTIONS_URL/bookings?tripId=my-trip-2"   what the functions booked and cancelled
  BATON_ADDRESS=$BATON_URL $BATON instances
  BATON_ADDRESS=$BATON_URL $BATON incidents
  tail -f $DATA/logs/functions.log                  every call the saga makes

Ctrl-C stops everything.
EOF
# Runs until Ctrl-C (or until one of them stops: see $DATA/logs/).
wait -n "${pids[@]}" || true
