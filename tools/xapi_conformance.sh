#!/usr/bin/env bash
# Run ADL's LRS conformance test suite against an xAPI endpoint and summarise the results.
#
# The suite is never vendored: check it out beside the repository (or anywhere outside it),
#   git clone https://github.com/adlnet/lrs-conformance-test-suite ../xapi-conformance
# and point XAPI_CONFORMANCE_DIR at it when it is elsewhere.
#
# Usage: tools/xapi_conformance.sh ENDPOINT [VERSION]
#   ENDPOINT  the xAPI base URL, e.g. http://127.0.0.1:8000/xapi  (loopback only)
#   VERSION   1.0.3 or 2.0.0 (default 2.0.0)
# Environment:
#   XAPI_USER, XAPI_PASSWORD   HTTP Basic credentials (an API key's id and key); required
#   XAPI_CONFORMANCE_DIR       the suite's checkout (default: ../xapi-conformance)
#   XAPI_CONFORMANCE_OUT       where the JSON log goes (default: /tmp/xapi-conformance-<version>-<time>.json)
#   XAPI_CONFORMANCE_GREP      a mocha grep pattern selecting tests (e.g. "XAPI-00113"); default: all
#   A 1.0.3 run expects X-Experience-API-Version: 1.0.3 on the 400 for a versionless request:
#   use a key of a tenant whose xAPI profile sets it (progressctl tenant xapi T --set
#   '{"defaultVersion": "1.0.3"}'); a tenant without a profile answers 2.0.0.
# Exit status: 0 when every selected test passed, 1 when some failed, 2 on a usage error.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
endpoint=${1:-}
version=${2:-2.0.0}
suite=${XAPI_CONFORMANCE_DIR:-$repo/../xapi-conformance}
out=${XAPI_CONFORMANCE_OUT:-/tmp/xapi-conformance-$version-$(date -u +%Y%m%dT%H%M%SZ).json}

die() { echo "xapi_conformance: $*" >&2; exit 2; }

[[ -n $endpoint ]] || die "usage: $0 ENDPOINT [VERSION] (see the header of this script)"
[[ $version == 1.0.3 || $version == 2.0.0 ]] || die "VERSION must be 1.0.3 or 2.0.0"
[[ $endpoint =~ ^https?://(127\.0\.0\.1|localhost|\[::1\])(:[0-9]+)?(/|$) ]] \
  || die "run the suite against a loopback endpoint only (it stores statements it never voids)"
[[ -n ${XAPI_USER:-} && -n ${XAPI_PASSWORD:-} ]] || die "set XAPI_USER and XAPI_PASSWORD"
[[ -f $suite/bin/console_runner.js ]] \
  || die "no conformance suite at $suite: clone adlnet/lrs-conformance-test-suite there"
suite=$(cd "$suite" && pwd)
case $suite/ in "$repo"/*) die "the suite must live outside the repository ($suite)" ;; esac
case $out in "$repo"/*) die "write results outside the repository ($out)" ;; esac

if [[ ! -d $suite/node_modules ]]; then
  (cd "$suite" && npm install --no-audit --no-fund)
fi

grep_pattern=${XAPI_CONFORMANCE_GREP:-}

args=(bin/console_runner.js --endpoint "$endpoint" --basicAuth
      --authUser "$XAPI_USER" --authPassword "$XAPI_PASSWORD" --xapiVersion "$version")
[[ -n $grep_pattern ]] && args+=(--grep "$grep_pattern")

console=$(mktemp)
trap 'rm -f "$console"' EXIT
status=0
(cd "$suite" && node "${args[@]}") >"$console" 2>&1 || status=$?
log=$(sed -n 's/^Full run log written to //p' "$console" | tail -n 1)
if [[ -z $log || ! -f $log ]]; then
  tail -n 40 "$console" >&2
  die "the suite wrote no log (exit status $status)"
fi
cp "$log" "$out"
rm -f "$log"

python3 - "$out" <<'PY'
import json
import sys

run = json.load(open(sys.argv[1], encoding="utf-8"))


def leaves(node):
    tests = node.get("tests") or []
    if not tests:
        yield node
    for child in tests:
        yield from leaves(child)


def top_suites(log):
    # The root is the mocha run itself; its children are the per-file top-level suites.
    return log.get("tests") or [] if not log.get("title") else [log]


root = run["log"]
if root.get("error"):
    # A failing global hook (it first POSTs a statement and GETs it back) stops every test.
    print(f"the run stopped before its tests: {root['error'].splitlines()[0]}")
rows = []
for suite in top_suites(root):
    results = [leaf.get("status") for leaf in leaves(suite)]
    rows.append((suite.get("title", "?"), results.count("passed"), results.count("failed")))
width = max((len(title) for title, _, _ in rows), default=10)
print(f"{'suite':<{width}}  passed  failed")
for title, passed, failed in rows:
    print(f"{title:<{width}}  {passed:6}  {failed:6}")
summary = run.get("summary", {})
print(f"total {summary.get('total')}, passed {summary.get('passed')}, "
      f"failed {summary.get('failed')} (xAPI {summary.get('version')})")
print(f"full log: {sys.argv[1]}")
PY
[[ $status == 0 ]] || exit 1
