#!/usr/bin/env bash
# Brings the compose stack up as the README's quick start does and checks that it works:
# every container healthy, the web page served, a scanned PDF OCR'd, the job still there
# after `down` and `up` (named volumes), three workers sharing a 48-page document, one of
# them stopped in the middle of it. Then tears everything down, volumes included. Exits non-zero on any failure.
# With SMOKE_S3=1 the same, on the several-hosts layout: docker-compose.s3.yml on top (MinIO,
# no volume shared by the API and the workers), and it checks the containers' mounts, the
# objects in the bucket and that every worker deletes its own copies of the PDFs.
#
#   scripts/compose-smoke.sh
#   COMPOSE="../shared/tools/container-sandbox.sh compose" scripts/compose-smoke.sh
#   SMOKE_S3=1 SMOKE_S3_STANDINS=1 COMPOSE="../shared/tools/container-sandbox.sh compose" scripts/compose-smoke.sh
#
# COMPOSE        the compose command (default "docker compose")
# ENGINE         the container CLI, for what compose cannot do to one replica: stop it,
#                read its health (default docker for "docker compose", otherwise podman)
# API_PORT       host port for the API (default 3000)
# SMOKE_PROJECT  compose project name (default ocr-smoke); a project of its own, so that
#                the final `down -v` never touches a stack you started yourself
# SMOKE_S3       1: run docker-compose.yml with docker-compose.s3.yml
# SMOKE_S3_STANDINS  1: first build test stand-ins for the minio/minio and minio/mc images
#                (scripts/s3-standins: s3rver, not MinIO), for a machine that cannot pull them.
#                They are tagged with the real names; an image of that name that is not a
#                stand-in is left alone and the run stops.
# Needs only bash, curl, grep and sed besides the container tools.
set -euo pipefail

started_in=$(pwd)
cd "$(dirname "$0")/.."
read -r -a compose <<<"${COMPOSE:-docker compose}"
# A relative path in COMPOSE is relative to where the script was started.
if [[ ${compose[0]} == */* && ${compose[0]} != /* ]]; then compose[0]="$started_in/${compose[0]}"; fi
if [[ -z ${ENGINE:-} ]]; then
  case ${compose[0]##*/} in docker | docker-compose) ENGINE=docker ;; *) ENGINE=podman ;; esac
fi
project=${SMOKE_PROJECT:-ocr-smoke}
export API_PORT=${API_PORT:-3000}
base="http://127.0.0.1:$API_PORT"
single=scripts/fixtures/scan-1page.pdf # "The quick brown fox jumps over / the lazy dog near 42 green trees."
photo=scripts/fixtures/scan-1page.jpg   # the same page as a JPEG: sharp's native libvips in the worker image
long=scripts/fixtures/scan-48pages.pdf # the same image on 48 pages
long_pages=48
scratch=$(mktemp -d)
files=(-f docker-compose.yml)
if [[ ${SMOKE_S3:-} == 1 ]]; then files+=(-f docker-compose.s3.yml); fi

log() { printf '[smoke %s] %s\n' "$(date +%T)" "$*"; }
fail() {
  log "FAIL: $*"
  exit 1
}
dc() { "${compose[@]}" -p "$project" "${files[@]}" "$@"; }

# Running containers of this project, of one service when one is named.
containers() {
  local filters=(--filter "label=com.docker.compose.project=$project")
  if [[ -n ${1:-} ]]; then filters+=(--filter "label=com.docker.compose.service=$1"); fi
  "$ENGINE" ps -q "${filters[@]}"
}
name_of() { "$ENGINE" inspect -f '{{.Name}}' "$1" | sed 's|^/||'; }

finish() {
  local rc=$? id
  trap - EXIT
  if ((rc != 0)); then
    log "the last lines of every container's log:"
    for id in $("$ENGINE" ps -aq --filter "label=com.docker.compose.project=$project"); do
      echo "----- $(name_of "$id") ($("$ENGINE" inspect -f '{{.State.Status}} exit {{.State.ExitCode}}' "$id"))"
      "$ENGINE" logs --tail 30 "$id" 2>&1 | sed 's/\x1b\[[0-9;]*m//g'
    done
  fi
  log "tearing down"
  dc down -v >/dev/null 2>&1 || true
  # podman-compose 1.0.3 removes only the replicas its compose file names, and leaves the
  # network: clear what is left.
  local kind
  for id in $("$ENGINE" ps -aq --filter "label=com.docker.compose.project=$project"); do "$ENGINE" rm -f "$id" >/dev/null || true; done
  for kind in volume network; do
    for id in $("$ENGINE" "$kind" ls -q --filter "label=com.docker.compose.project=$project"); do "$ENGINE" "$kind" rm "$id" >/dev/null || true; done
  done
  rm -rf "$scratch"
  if ((rc == 0)); then log "PASS"; else log "FAILED (exit $rc)"; fi
  exit "$rc"
}

# The engine's verdict on a container's own healthcheck. podman runs healthchecks from
# systemd timers, which a CI machine or a container may lack, so ask it to run one now.
healthy() {
  if [[ $ENGINE == podman ]]; then
    podman healthcheck run "$1" >/dev/null 2>&1
  else
    [[ $("$ENGINE" inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$1") == healthy ]]
  fi
}

wait_healthy() { # service, containers wanted, seconds
  local deadline=$((SECONDS + $3)) count id
  while :; do
    count=0
    for id in $(containers "$1"); do if healthy "$id"; then count=$((count + 1)); fi; done
    if ((count >= $2)); then
      log "$1: $count of $2 healthy"
      return
    fi
    ((SECONDS < deadline)) || fail "$1: $count of $2 containers healthy after $3 s"
    sleep 2
  done
}

wait_stack() { # worker replicas
  if s3; then
    wait_healthy minio 1 60
    wait_bucket
  fi
  wait_healthy redis 1 120
  wait_healthy api 1 180
  wait_healthy worker "$1" 180
  # /health is on the API's management port, which compose does not publish; the public
  # port must not serve it.
  local code
  code=$(curl -sS -o /dev/null -w '%{http_code}' "$base/health") || fail "the API does not answer on $base"
  [[ $code == 404 ]] || fail "GET $base/health answered $code; health belongs on the management port only"
  dc exec -T api node dist/healthcheck.main.js api || fail "the API's healthcheck fails"
  log "GET /health: 404 on $base, healthy on the management port"
}

field() { sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p" <<<"$2" | head -n 1; }

submit() { # file; prints the job id
  local code body
  code=$(curl -sS -o "$scratch/submit" -w '%{http_code}' -F "file=@$1" "$base/v1/jobs") || fail "cannot upload $1"
  body=$(cat "$scratch/submit")
  [[ $code == 202 ]] || fail "POST /v1/jobs with $1 answered $code: $body"
  log "POST /v1/jobs $1: $code, status $(field status "$body")" >&2
  field id "$body"
}

job() { curl -sS --max-time 10 "$base/v1/jobs/$1" 2>/dev/null || true; }

wait_completed() { # id, seconds
  local deadline=$((SECONDS + $2)) body status
  while :; do
    body=$(job "$1")
    status=$(field status "$body")
    case $status in
      completed)
        log "job $1 completed: $(field pagesDone "$body") of $(field pagesTotal "$body") pages"
        return
        ;;
      failed | cancelled) fail "job $1 ended $status: $body" ;;
    esac
    ((SECONDS < deadline)) || fail "job $1 not completed after $2 s: ${body:0:300}"
    sleep 1
  done
}

check_text() { # id, pages
  local text fox dog
  text=$(curl -sS "$base/v1/jobs/$1/result?format=txt") || fail "cannot read the result of $1"
  fox=$(grep -o 'quick brown fox' <<<"$text" | wc -l)
  dog=$(grep -o 'lazy dog near 42 green trees' <<<"$text" | wc -l)
  log "recognised text of $1 (first page): $(tr '\f\n' '  ' <<<"${text%%$'\f'*}")"
  ((fox == $2 && dog == $2)) || fail "expected the fox and the dog on each of $2 pages, found $fox and $dog"
}

# --- the several-hosts layout (SMOKE_S3=1) ---
s3() { [[ ${SMOKE_S3:-} == 1 ]]; }

build_standins() {
  local target image
  for target in minio mc; do
    image=docker.io/minio/$target:latest
    if "$ENGINE" image inspect "$image" >/dev/null 2>&1 &&
      [[ -z $("$ENGINE" image inspect -f '{{index .Config.Labels "ocr.test-stand-in"}}' "$image") ]]; then
      fail "$image is the real image, not a stand-in: run without SMOKE_S3_STANDINS"
    fi
    "$ENGINE" build -q --target "$target" -t "$image" scripts/s3-standins >/dev/null
  done
  log "built the test stand-ins for minio/minio and minio/mc (scripts/s3-standins: s3rver, not MinIO)"
}

# podman-compose does not wait for MinIO's healthcheck, nor for this one-shot container.
wait_bucket() {
  local deadline=$((SECONDS + 120)) id
  while :; do
    for id in $("$ENGINE" ps -aq --filter "label=com.docker.compose.project=$project" --filter "label=com.docker.compose.service=minio-bucket"); do
      if [[ $("$ENGINE" inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$id") == "exited 0" ]]; then
        log "minio-bucket: the bucket is there"
        return
      fi
    done
    ((SECONDS < deadline)) || fail "minio-bucket did not create the bucket in 120 s"
    sleep 2
  done
}

mounts_of() { "$ENGINE" inspect -f '{{range .Mounts}}{{if .Name}}{{.Name}}{{else}}{{.Source}}{{end}} {{.Destination}}{{println}}{{end}}' "$1"; }

# The API and the workers share no volume, none mounts the base file's shared one, and each
# worker keeps its scratch files (STORAGE_DIR) on no mount at all: the replicas of a service
# all mount the same named volume, so a worker's scratch folder is its own only in its container.
check_mounts() {
  local -A api_mounts=()
  local service id name source dest dir
  for service in api worker; do
    for id in $(containers "$service"); do
      name=$(name_of "$id")
      dir=$("$ENGINE" exec "$id" printenv STORAGE_DIR)
      while read -r source dest; do
        [[ -n $source ]] || continue
        log "$name: $source at $dest"
        [[ $source != "${project}_storage" ]] || fail "$name mounts the shared storage volume"
        if [[ $service == api ]]; then
          api_mounts[$source]=1
        else
          [[ -z ${api_mounts[$source]:-} ]] || fail "$name shares $source with the API"
          [[ $dir != "$dest" && $dir != "$dest"/* ]] || fail "$name keeps its scratch files ($dir) on $source"
        fi
      done < <(mounts_of "$id")
      log "$name: STORAGE_DIR=$dir"
    done
  done
  log "the API and the workers share no volume"
}

bucket() { # every key in the bucket, one a line, as mc lists them in the MinIO container
  # shellcheck disable=SC2016 # expanded in the container
  "$ENGINE" exec "$(containers minio | head -n 1)" sh -c \
    'mc alias set smoke http://localhost:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null && mc ls --recursive smoke/ocr' |
    sed -n 's/.* STANDARD //p'
}

check_bucket() { # id, pages
  local keys pages
  keys=$(bucket) || fail "cannot list the bucket"
  grep -qx "uploads/$1.pdf" <<<"$keys" || fail "uploads/$1.pdf is not in the bucket"
  grep -qx "results/$1.json" <<<"$keys" || fail "results/$1.json is not in the bucket"
  pages=$(grep -c "^pages/$1/[0-9]*\.json$" <<<"$keys" || true)
  ((pages == $2)) || fail "$pages page results of $1 in the bucket, not $2"
  log "bucket: uploads/$1.pdf, results/$1.json and $pages page results ($(grep -c . <<<"$keys") objects in all)"
}

# Every worker deletes its copy of a PDF once the document ends, and writes nothing to /data.
check_scratch() {
  local deadline=$((SECONDS + 30)) id name left
  for id in $(containers worker); do
    name=$(name_of "$id")
    while left=$("$ENGINE" exec "$id" sh -c 'ls -A "$STORAGE_DIR/copies" /data' | grep -v -e '^$' -e ':$' || true) && [[ -n $left ]]; do
      ((SECONDS < deadline)) || fail "$name still has: $left"
      sleep 1
    done
  done
  log "no worker kept a copy of a PDF, and /data is empty in every worker"
}

command -v curl >/dev/null || fail "curl is needed"
if curl -s --max-time 2 -o /dev/null "$base/"; then
  fail "something already answers on $base; stop it or set API_PORT"
fi
trap finish EXIT
dc down -v >/dev/null 2>&1 || true
if s3 && [[ ${SMOKE_S3_STANDINS:-} == 1 ]]; then build_standins; fi

log "1. $(printf '%s ' "${compose[@]}")-p $project ${files[*]} up --build -d (API on $base, engine $ENGINE)"
dc up --build -d
wait_stack 2
log "images: $("$ENGINE" images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E 'ocr-(api|worker)' | tr '\n' ' ')"
for id in $(containers api) $(containers worker); do
  [[ $("$ENGINE" exec "$id" id -u) != 0 ]] || fail "$(name_of "$id") runs as root"
done
log "api and worker containers run as: $("$ENGINE" exec "$(containers api | head -n 1)" id -un)"
if s3; then check_mounts; fi
# The web page: built into the API image, served at / with its script.
page=$(curl -sS "$base/") || fail "GET / does not answer"
grep -q 'src="/app.js"' <<<"$page" || fail "GET / is not the web page: $page"
curl -sSf -o /dev/null "$base/app.js" || fail "GET /app.js fails"
log "GET /: the web page and its script"

log "2. one scanned page, as a PDF and as a JPEG"
first=$(submit "$single")
wait_completed "$first" 180
check_text "$first" 1
if s3; then check_bucket "$first" 1; fi
image=$(submit "$photo")
wait_completed "$image" 180
check_text "$image" 1

log "3. down and up again: Redis (AOF) and the documents (the storage volume, or MinIO's) live in named volumes"
dc down
dc up -d
wait_stack 2
body=$(job "$first")
[[ $(field status "$body") == completed ]] || fail "job $first after down/up: ${body:0:300}"
check_text "$first" 1

log "4. three workers"
export WORKER_REPLICAS=3 # podman-compose reads replicas from the file only
dc up -d --scale worker=3
wait_healthy worker 3 180

log "5. a $long_pages-page document; one worker stops in the middle of it"
doc=$(submit "$long")
deadline=$((SECONDS + 180))
while :; do
  body=$(job "$doc")
  done_pages=$(field pagesDone "$body")
  [[ $(field status "$body") != completed ]] || fail "the document finished before a worker could be stopped"
  if ((${done_pages:-0} >= 2)); then break; fi
  ((SECONDS < deadline)) || fail "no progress on $doc: ${body:0:300}"
  sleep 0.5
done
victim=""
for id in $(containers worker); do
  if "$ENGINE" logs "$id" 2>&1 | grep -q "of $doc: "; then victim=$id; fi
done
[[ -n $victim ]] || victim=$(containers worker | head -n 1)
victim_name=$(name_of "$victim")
if s3 && "$ENGINE" logs "$victim" 2>&1 | grep -q "of $doc: "; then
  # shellcheck disable=SC2016 # expanded in the container
  copy=$("$ENGINE" exec "$victim" sh -c 'ls "$STORAGE_DIR/copies"' | grep -F "$doc" || true)
  [[ -n $copy ]] || fail "$victim_name reads pages of $doc but has no copy of it in its own scratch folder"
  log "$victim_name reads its own copy of the PDF, $copy, in its container"
fi
log "stopping $victim_name at $done_pages of $long_pages pages (SIGTERM, then its grace period)"
stop_started=$SECONDS
"$ENGINE" stop "$victim" >/dev/null
code=$("$ENGINE" inspect -f '{{.State.ExitCode}}' "$victim")
log "$victim_name exited with $code after $((SECONDS - stop_started)) s"
# 143: Node re-raised SIGTERM once its pages were done; 137 would mean it was killed.
[[ $code == 0 || $code == 143 ]] || fail "$victim_name did not shut down cleanly (exit $code)"
! "$ENGINE" logs "$victim" 2>&1 | grep -q 'will retry' || fail "$victim_name gave up a page on shutdown"

wait_completed "$doc" 300
body=$(job "$doc")
[[ $(field pagesTotal "$body") == "$long_pages" && $(field pagesDone "$body") == "$long_pages" ]] || fail "wrong progress: ${body:0:300}"
check_text "$doc" "$long_pages"
for id in $("$ENGINE" ps -aq --filter "label=com.docker.compose.project=$project" --filter "label=com.docker.compose.service=worker"); do
  log "$(name_of "$id"): $("$ENGINE" logs "$id" 2>&1 | grep -c "of $doc: ") pages of the document"
done
if s3; then
  check_bucket "$doc" "$long_pages"
  check_mounts
  check_scratch
fi
