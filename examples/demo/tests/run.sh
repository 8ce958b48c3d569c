#!/bin/sh
# The demo's validator (validation.validators in .uet/config.yaml): runs on the integration branch after each patch.
set -e
[ "$(sh src/greet.sh)" = "Hello, world" ]
if grep -rn TODO src docs 2>/dev/null; then echo "TODO left in the code" >&2; exit 1; fi
for f in docs/*.md; do [ -e "$f" ] || continue; head -n 1 "$f" | grep -q '^# ' || { echo "$f has no title" >&2; exit 1; }; done
for f in src/lib/*.sh src/cmd/*.sh; do [ -e "$f" ] || continue; sh -n "$f"; done
