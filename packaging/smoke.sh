#!/usr/bin/env bash
# Smoke test of a built bundle, run from the bundle alone: a clean environment, no .venv, no
# source tree. Usage: packaging/smoke.sh BUNDLE_DIR   (dist/caja-isseg or /opt/caja-isseg)
#   1. --help lists every part;
#   2. central's migration and `admin seed-demo` into a temporary database;
#   3. central with 2 worker processes answers /v1/health;
#   4. the headless demo takes one payment and prints its receipt to the file printer.
set -euo pipefail
BUNDLE=$(cd "${1:?uso: smoke.sh CARPETA_DEL_PAQUETE}" && pwd)
EXE="$BUNDLE/isseg-farmacia"
WORK=$(mktemp -d /tmp/caja-isseg-smoke.XXXXXX)
CENTRAL_PID=""
cleanup() {
    if [ -n "$CENTRAL_PID" ]; then kill "$CENTRAL_PID" 2>/dev/null || true; wait "$CENTRAL_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"
# Nothing from the build machine's Python may leak in.
run() { env -i PATH=/usr/bin:/bin HOME="$WORK" LANG=C.UTF-8 "$@"; }
ms() { date +%s%3N; }
step() { printf '== %s\n' "$*"; }

step "--help"
t0=$(ms)
run "$EXE" --help > help.txt
echo "   arranque en frío de --help: $(( $(ms) - t0 )) ms"
for part in demo caja kiosko gerente central admin; do grep -q "$part" help.txt || { echo "falta $part en --help"; exit 1; }; done

step "central migrar + admin seed-demo"
DB="sqlite:///$WORK/central.sqlite"
run ISSEG_CENTRAL_DB="$DB" "$EXE" central migrar
run ISSEG_CENTRAL_DB="$DB" "$EXE" admin seed-demo --json > demo.json
grep -q '"token"' demo.json

step "central con 2 procesos"
# A port below Linux's ephemeral range that nothing listens on; another start if it was
# taken in the meantime.
free_port() {
    while true; do
        port=$(( 20000 + RANDOM % 12000 ))
        ss -Htln "sport = :$port" 2>/dev/null | grep -q . || { echo "$port"; return; }
    done
}
for attempt in 1 2 3; do
    PORT=$(free_port)
    # exec: $! is then central itself, the parent of its workers.
    (exec env -i PATH=/usr/bin:/bin HOME="$WORK" LANG=C.UTF-8 ISSEG_CENTRAL_DB="$DB" \
        "$EXE" central --port "$PORT" --workers 2 > central.log 2>&1) &
    CENTRAL_PID=$!
    t0=$(ms)
    for _ in $(seq 1 150); do
        if curl -sf "http://127.0.0.1:$PORT/v1/health" > health.json; then break; fi
        kill -0 "$CENTRAL_PID" 2>/dev/null || break
        sleep 0.2
    done
    if grep -q '"status":"ok"' health.json 2>/dev/null; then break; fi
    kill "$CENTRAL_PID" 2>/dev/null || true; wait "$CENTRAL_PID" 2>/dev/null || true; CENTRAL_PID=""
    grep -q "Address already in use" central.log || { cat central.log; echo "central no respondió"; exit 1; }
done
grep -q '"status":"ok"' health.json || { cat central.log; echo "central no respondió"; exit 1; }
echo "   /v1/health respondió en $(( $(ms) - t0 )) ms"
# The workers are this executable started again by multiprocessing (freeze_support).
for _ in $(seq 1 50); do
    workers=$(pgrep -P "$CENTRAL_PID" -c -f -- --multiprocessing-fork || true)
    [ "$workers" -ge 2 ] && break
    sleep 0.2
done
[ "$workers" -ge 2 ] || { echo "se esperaban 2 procesos de trabajo, hay $workers"; exit 1; }
# The console renders from the bundle: its sign-in page (templates) and its style sheet.
curl -sf "http://127.0.0.1:$PORT/consola/entrar" | grep -q "Consola" \
    || { cat central.log; echo "la consola no respondió desde el paquete"; exit 1; }
curl -sf -o /dev/null "http://127.0.0.1:$PORT/consola/static/consola.css" \
    || { echo "la consola no tiene su hoja de estilo en el paquete"; exit 1; }
echo "   /consola/ respondió desde el paquete"
kill "$CENTRAL_PID"; wait "$CENTRAL_PID" 2>/dev/null || true; CENTRAL_PID=""

step "demo --sin-pantalla"
t0=$(ms)
run QT_QPA_PLATFORM=offscreen "$EXE" demo --sin-pantalla --datos "$WORK/demo"
echo "   demostración sin pantalla: $(( $(ms) - t0 )) ms"
[ -s "$WORK/demo/impresora.bin" ] || { echo "no se imprimió el comprobante"; exit 1; }
# The receipt's ESC/POS bytes carry the referencia's text (grouped, as printed).
grep -aq "Pago aplicado en l" "$WORK/demo/impresora.bin" || grep -aq "Pago registrado" "$WORK/demo/impresora.bin" \
    || { echo "el comprobante no dice cómo quedó el pago"; exit 1; }
echo "Prueba de humo del paquete: correcta ($BUNDLE)"
