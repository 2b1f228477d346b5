#!/usr/bin/env bash
# Hostile inputs against issue 29's "Done when": no input of its kinds makes
# tuneline exit with a Go fatal error or panic, take over 30 s or 1 GiB, or
# lose a good file's output beside a bad one.
#
# Builds ./cmd/tuneline, generates each case's input under a temp folder
# (large ones made when their row runs and removed after it, never
# committed), runs the real command under /usr/bin/time and prints one
# Markdown table row per input shape: exit code, wall seconds, max RSS,
# whether stderr shows a fatal error or panic, whether the good file's
# output beside the bad one was kept, whether the case's own answer is
# right (the refusal it should give, the text it should read), and
# PASS/FAIL against 30 s and 1024 MB.
#
# usage: bash bench/hostile.sh            all rows (about 10 minutes on 2 cores)
#        ONLY='3.*|5a' bash bench/hostile.sh   rows whose case id matches
#
# Safety nets, so that a regression cannot take the machine with it: every
# command runs under nice, `timeout -s KILL 120`, `ulimit -v` 6 GiB (past
# it Go dies with "out of memory": a FAIL) and `ulimit -f` 4 GiB. Network
# cases use 127.0.0.1 and 127.0.0.2 only.
set -uo pipefail
cd "$(dirname "$0")/.."
LIMIT_S=30
LIMIT_MB=1024
ONLY=${ONLY:-}
W=$(mktemp -d /tmp/tuneline-hostile.XXXXXX)
SRV=""
cleanup() {
  [ -n "$SRV" ] && kill "$SRV" 2>/dev/null
  chmod -R u+w "$W" 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT
mkdir -p "$W/bin" "$W/in" "$W/run"
echo "building into $W/bin" >&2
nice go build -o "$W/bin/tuneline" ./cmd/tuneline || exit 1
nice go build -o "$W/bin/hostilegen" ./bench/hostilegen || exit 1
T=$W/bin/tuneline
G=$W/bin/hostilegen
IN=$W/in

# ---------------------------------------------------------------- running
# A row: run ID INPUT -- COMMAND...; before it set GOOD (a shell test that
# the good file's output was kept; empty: n/a) and WANT (a shell test that
# the case's answer is right; empty: n/a). Inside them $OUT, $ERR and $RC
# are the command's stdout, stderr and exit code. Rows of a family run
# between agg_begin and agg_end print one row with the worst figures.
AGG=""
agg_begin() { AGG=1; A_N=0; A_RC=""; A_WALL=0; A_MB=0; A_FATAL=no; A_KEPT=n/a; A_WANT=n/a; A_CMD=""; }
worse() { awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 > b + 0) ? a : b }'; }
run() {
  local id=$1 input=$2
  shift 3 # the id, the input and --
  if [ -n "$ONLY" ] && ! [[ $id =~ ^($ONLY)$ ]]; then
    GOOD="" WANT="" STDIN=""
    return
  fi
  OUT=$W/out ERR=$W/err
  (
    cd "$W/run" || exit 1
    ulimit -v $((6 << 20)) -f $((4 << 20))
    exec nice /usr/bin/time -f '%e %M' -o "$W/time" timeout -s KILL 120 "$@" >"$OUT" 2>"$ERR" <"${STDIN:-/dev/null}"
  )
  RC=$?
  local wall rss mb fatal=no kept=n/a want=n/a verdict=PASS
  read -r wall rss < <(tail -1 "$W/time")
  mb=$(( ${rss:-0} / 1024 ))
  if grep -qaE 'fatal error|panic:|runtime: out of memory|^goroutine [0-9]+ \[' "$ERR"; then fatal=yes; fi
  if [ -n "${GOOD:-}" ]; then if (cd "$W/run" && eval "$GOOD") 2>/dev/null; then kept=yes; else kept=no; fi; fi
  if [ -n "${WANT:-}" ]; then if (cd "$W/run" && eval "$WANT") 2>/dev/null; then want=yes; else want=no; fi; fi
  if [ "$fatal" = yes ] || [ "$kept" = no ] || [ "$want" = no ] || [ "$RC" -ge 124 ] ||
    awk -v w="$wall" -v m="$mb" -v ls=$LIMIT_S -v lm=$LIMIT_MB 'BEGIN { exit !(w > ls || m > lm) }'; then
    verdict=FAIL
  fi
  local cmd
  cmd=$(printf '%s ' "$@" | sed "s#$T#tuneline#g; s#$W/##g; s#$W#.#g; s# \$##" | sed ':a;N;$!ba;s/\n/\\n/g')
  [ ${#cmd} -gt 150 ] && cmd="${cmd:0:147}..."
  printf '%s %s rc=%s %ss %sMB fatal=%s kept=%s want=%s %s | %s\n' "$id" "$verdict" "$RC" "$wall" "$mb" "$fatal" "$kept" "$want" "$cmd" \
    "$(head -c 300 "$ERR" | tr '\n' ' ')" >&2
  if [ -n "$AGG" ]; then
    A_N=$((A_N + 1))
    case " $A_RC " in *" $RC "*) ;; *) A_RC="${A_RC:+$A_RC }$RC" ;; esac
    A_WALL=$(worse "$wall" "$A_WALL")
    A_MB=$(worse "$mb" "$A_MB")
    [ "$fatal" = yes ] && A_FATAL=yes
    [ "$kept" != n/a ] && { [ "$A_KEPT" = n/a ] || [ "$A_KEPT" = yes ]; } && A_KEPT=$kept
    [ "$want" != n/a ] && { [ "$A_WANT" = n/a ] || [ "$A_WANT" = yes ]; } && A_WANT=$want
    [ -z "$A_CMD" ] && A_CMD=$cmd
    [ "$verdict" = FAIL ] && A_FAIL=1
  else
    printf '| %s | %s | `%s` | %s | %s | %s | %s | %s | %s | %s |\n' "$id" "$input" "$cmd" "$RC" "$wall" "$mb" "$fatal" "$kept" "$want" "$verdict"
  fi
  GOOD="" WANT="" STDIN=""
}
agg_end() {
  local id=$1 input=$2 cmd=${3:-$A_CMD} verdict=PASS
  AGG=""
  [ "$A_N" -eq 0 ] && return
  if [ -n "${A_FAIL:-}" ]; then verdict=FAIL; fi
  A_FAIL=""
  printf '| %s | %s (%d runs; worst shown) | `%s` | %s | %s | %s | %s | %s | %s | %s |\n' "$id" "$input" "$A_N" "$cmd" "$A_RC" "$A_WALL" "$A_MB" "$A_FATAL" "$A_KEPT" "$A_WANT" "$verdict"
}
want_id() { [ -z "$ONLY" ] || [[ $1 =~ ^($ONLY)$ ]]; }
has() { grep -qa -- "$1" "$2"; }

# ---------------------------------------------------------------- inputs
echo "A good note about rivers and mills, zqxgood." >"$IN/good.txt"
printf '%s\n' '{"messages":[{"role":"user","content":"What is zqxgood?"},{"role":"assistant","content":"A marker."}]}' >"$IN/good.jsonl"
for i in $(seq 12); do
  printf '{"messages":[{"role":"user","content":"Question %d about rivers, zqxgood?"},{"role":"assistant","content":"Answer %d about mills."}]}\n' "$i" "$i"
done >"$IN/good12.jsonl"
"$G" pdfs "$IN" || exit 1
# fill N BYTE: N bytes of BYTE, made as they are written
fill() { head -c "$1" /dev/zero | tr '\0' "$2"; }
# record N [BEFORE AFTER]: a chat record whose content is N bytes
record() { printf '%s{"messages":[{"role":"user","content":"' "${2:-}"; fill "$1" a; printf '"},{"role":"assistant","content":"b"}]}%s' "${3:-}"; }
# valid N: validate --json counts N valid examples or more
valid_ge() { python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["valid"] >= int(sys.argv[2]) else 1)' "$OUT" "$1" 2>/dev/null; }

printf '| case | input | command | exit | wall s | max RSS MB | fatal/panic | good kept | answer right | verdict |\n'
printf '|---|---|---|---:|---:|---:|---|---|---|---|\n'

# ---------------------------------------------------------------- 1 PDF size fields
GOOD='has zqxgood $W/run/o.jsonl'
WANT='[ $RC = 1 ] && has "sources failed" $ERR'
run 1a "12 PDFs whose /Size, /W, /Index, subsection, /Columns, /Colors or /BitsPerComponent is 2^32-2^63, and a good PDF" -- \
  "$T" ingest --workers 4 --out o.jsonl "$IN"/xref-*.pdf "$IN"/subsection-*.pdf "$IN"/predictor-*.pdf "$IN/good.pdf"
agg_begin
for f in "$IN"/xref-*.pdf "$IN"/subsection-*.pdf "$IN"/predictor-*.pdf; do
  GOOD='has zqxgood $W/run/o.jsonl'
  run 1b "each alone" -- "$T" ingest --out o.jsonl "$f" "$IN/good.pdf"
done
agg_end 1b "each of the 12 beside the good PDF" "tuneline ingest --out o.jsonl BAD.pdf good.pdf"

# ---------------------------------------------------------------- 2 damaged memory.db
if want_id '2.*' || want_id '8.*' || want_id '15'; then
  "$G" serve "$W/ports" >"$W/serve.log" 2>&1 &
  SRV=$!
  for _ in $(seq 50); do [ -s "$W/ports" ] && break; sleep 0.1; done
  read -r P1 P2 <"$W/ports"
fi
if want_id '2.*'; then
  mkdir -p "$IN/mem"
  "$G" memdb "$IN/mem" 100 || exit 1
  CHAT=("$T" chat --api openai --base-url "http://127.0.0.1:$P1/v1" stub --ask "what about entropy")
  # ask ID DIR...: chat with each memory (a copy), one row for them all
  ask() {
    local id=$1 d n
    shift
    agg_begin
    for d in "$@"; do
      n=$(basename "$d")
      cp -r "$d" "$W/run/m-$n"
      GOOD='cmp -s <(head -400 $W/run/m-'$n'/interactions.jsonl) $IN/mem/sound/interactions.jsonl'
      WANT='[ $RC = 0 ] || has "rebuild-memory" $ERR'
      run "$id" "$n" -- "${CHAT[@]}" --memory "m-$n"
    done
  }
  ask 2a "$IN/mem/sound" $(ls -d "$IN"/mem/* | grep -v -e /rand- -e /sound)
  agg_end 2a "memory.db: a sound one and 12 damages (a branch past the file or to itself, 65535 elements, a key at 2^31, 2^20 overflow pages, zeroed pages, a freelist of 2^40, truncated, metas zeroed, unsorted keys, junk appended)" \
    "tuneline chat --api openai --base-url http://127.0.0.1:PORT/v1 stub --ask Q --memory DIR"
  ask 2b "$IN"/mem/rand-*
  agg_end 2b "memory.db with 1-64 runs of random bytes, 100 files" "tuneline chat ... --memory DIR"
  agg_begin
  for d in "$W"/run/m-*; do
    case $d in *m-sound) continue ;; esac
    GOOD='[ "$(wc -l <'$d'/interactions.jsonl)" -ge 400 ]'
    WANT='[ $RC = 0 ] && grep -qE "from 40[01] interactions" $ERR'
    run 2c "$d" -- "$T" chat --memory "$d" --rebuild-memory
    WANT='[ $RC = 0 ]'
    run 2c "$d" -- "${CHAT[@]}" --memory "$d"
  done
  agg_end 2c "each damaged memory rebuilt with --rebuild-memory, then asked again" "tuneline chat --memory DIR --rebuild-memory; tuneline chat ... --memory DIR"
  mkdir -p "$W/run/m-long"
  { head -200 "$IN/mem/sound/interactions.jsonl"; printf '{"query":"'; fill 300000000 a; printf '","response":"r"}\n'; tail -200 "$IN/mem/sound/interactions.jsonl"; } >"$W/run/m-long/interactions.jsonl"
  GOOD='[ $RC = 0 ] && has "from 400 interactions" $ERR'
  WANT='has "1 unreadable" $ERR'
  run 2d "interactions.jsonl with a 300 MB line among 400 good ones" -- "$T" chat --memory m-long --rebuild-memory
  rm -rf "$W/run/m-long"
  cp -r "$IN/mem/sound" "$W/run/m-facts"
  WANT='[ $RC = 1 ] && has "too large" $ERR'
  run 2e "--facts /dev/zero" -- "${CHAT[@]}" --memory m-facts --facts /dev/zero
  rm -rf "$W"/run/m-* "$IN/mem"
fi

# ---------------------------------------------------------------- 3 record limits
if want_id '3[a-c]'; then
  record 272000000 '{"messages":[]}'$'\n' $'\n{}\n' >"$IN/line272.jsonl"
  GOOD='valid_ge 1'
  WANT='has "8 MiB" $OUT || has "8 MiB" $ERR'
  run 3a "a 272 MB JSON Lines line, beside a good file" -- "$T" validate --json "$IN/line272.jsonl" "$IN/good.jsonl"
  rm -f "$IN/line272.jsonl"
  record 600000000 $'[\n{"messages":[]},\n' ']' >"$IN/elem600.json"
  GOOD='valid_ge 1'
  WANT='has "8 MiB" $OUT || has "8 MiB" $ERR'
  run 3b "a 600 MB JSON array element, beside a good file" -- "$T" validate --json "$IN/elem600.json" "$IN/good.jsonl"
  rm -f "$IN/elem600.json"
  { printf '{\n  "messages": [\n'; record 600000000 '' ']}'; } >"$IN/pretty600.json"
  GOOD='valid_ge 1'
  WANT='has "8 MiB" $OUT || has "8 MiB" $ERR'
  run 3c "a 600 MB pretty-printed object, beside a good file" -- "$T" validate --json "$IN/pretty600.json" "$IN/good.jsonl"
  rm -f "$IN/pretty600.json"
fi
WANT='[ $RC = 1 ] && has "/dev/zero:1" $ERR'
run 3d "--chunks /dev/zero" -- "$T" datasets stats --chunks /dev/zero "$IN/good.jsonl"
if want_id '3[e-h]'; then
  record 500000000 >"$IN/word500.jsonl"
  echo >>"$IN/word500.jsonl"
  GOOD='valid_ge 1'
  WANT='has "8 MiB" $OUT || has "8 MiB" $ERR'
  run 3e "a 500 MB one-word line, beside a good file" -- "$T" validate --json "$IN/word500.jsonl" "$IN/good.jsonl"
  rm -f "$IN/word500.jsonl"
  for _ in 1 2 3 4; do record 8000000; echo; done >"$IN/word8x4.jsonl"
  GOOD='valid_ge 5'
  run 3f "four one-word records of 8 MB (just under the limit), beside a good file" -- "$T" validate --json "$IN/word8x4.jsonl" "$IN/good.jsonl"
  rm -f "$IN/word8x4.jsonl"
  fill 190000000 a >"$IN/word190.txt"
  GOOD='has zqxgood o.jsonl'
  WANT='[ "$(stat -c %s o.jsonl)" -lt 400000000 ]'
  run 3g "a 190 MB one-word .txt, beside a good file" -- "$T" ingest --out o.jsonl "$IN/word190.txt" "$IN/good.txt"
  rm -f "$IN/word190.txt" "$W/run/o.jsonl"
  { printf '# '; fill 20000000 b; printf '\n\nA paragraph under the heading.\n\n'; fill 20000000 c; echo; } >"$IN/heading20.md"
  GOOD='has zqxgood o.jsonl'
  WANT='[ "$(stat -c %s o.jsonl)" -lt 200000000 ]'
  run 3h "Markdown whose heading is one 20 MB word, then a 20 MB word" -- "$T" ingest --out o.jsonl "$IN/heading20.md" "$IN/good.txt"
  rm -f "$IN/heading20.md" "$W/run/o.jsonl"
fi

# ---------------------------------------------------------------- 4 files named, read whole
(cd "$W/run" && "$T" init ws4 >/dev/null 2>&1)
fill 100000000 x | sed '1s/^/name: Big\nsystem: /' >"$IN/persona100.yaml"
printf 'name: Ada\nsystem: You are Ada.\n' >"$IN/persona.yaml"
WANT='[ $RC = 1 ] && has "too large" $ERR'
run 4a "--persona /dev/zero" -- "$T" modelfile --from llama3.2 --persona /dev/zero
WANT='[ $RC = 1 ] && has "too large" $ERR'
run 4b "a 100 MB persona" -- "$T" modelfile --from llama3.2 --persona "$IN/persona100.yaml"
WANT='[ $RC = 1 ] && has "too large" $ERR'
run 4c "--license /dev/zero" -- "$T" modelfile --from llama3.2 --license /dev/zero
WANT='[ $RC = 1 ] && has "too large" $ERR'
run 4d "--template /dev/zero" -- "$T" modelfile --from llama3.2 --template /dev/zero
WANT='[ $RC = 1 ] && has "too large" $ERR'
run 4e "--batch /dev/zero" -- "$T" create --batch /dev/zero
WANT='[ $RC -ge 1 ] && has "too large" $ERR'
run 4f "synth --persona /dev/zero" -- "$T" synth --model m --persona /dev/zero "$IN/good.jsonl"
WANT='[ $RC -ge 1 ] && has "not a regular file" $ERR'
run 4g "export --review /dev/zero" -- "$T" export -f openai --out exp4 --review /dev/zero "$IN/good.jsonl"
if [ -d "$W/run/ws4" ]; then
  cp -r "$W/run/ws4" "$W/run/ws4y" && ln -sf /dev/zero "$W/run/ws4y/tuneline.yaml"
  WANT='[ $RC -ge 1 ] && has "too large" $ERR'
  run 4h "tuneline.yaml -> /dev/zero" -- "$T" run --dry-run ws4y
  cp -r "$W/run/ws4" "$W/run/ws4p" && ln -sf /dev/zero "$W/run/ws4p/persona.yaml" && cp "$IN/good.txt" "$W/run/ws4p/sources/"
  WANT='[ $RC -ge 1 ] && has "too large" $ERR'
  run 4i "persona.yaml -> /dev/zero" -- "$T" run --dry-run ws4p
  cp -r "$W/run/ws4" "$W/run/ws4b" && cp "$IN/persona100.yaml" "$W/run/ws4b/persona.yaml"
  WANT='[ $RC -ge 1 ] && has "too large" $ERR'
  run 4j "persona.yaml of 100 MB" -- "$T" run --dry-run ws4b
  cp -r "$W/run/ws4" "$W/run/ws4a"
  {
    echo "x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"
    for i in $(seq 1 8); do echo "x$i: &a$i [*a$((i - 1)), *a$((i - 1)), *a$((i - 1)), *a$((i - 1)), *a$((i - 1)), *a$((i - 1)), *a$((i - 1)), *a$((i - 1)), *a$((i - 1))]"; done
    cat "$W/run/ws4/tuneline.yaml"
  } >"$W/run/ws4a/tuneline.yaml"
  WANT='[ $RC -ge 1 ]'
  run 4k "tuneline.yaml with a YAML alias bomb (9^9 nodes in 1 KB)" -- "$T" run --dry-run ws4a
fi
WANT='[ $RC -ge 1 ] && has "/dev/zero" $ERR'
run 4l "validate /dev/zero" -- "$T" validate /dev/zero
WANT='[ $RC -ge 1 ] && has "/dev/zero" $ERR'
run 4m "export /dev/zero" -- "$T" export -f openai --out exp4m /dev/zero
WANT='[ $RC -ge 1 ]'
run 4n "eval --questions /dev/zero" -- "$T" eval --model m --questions /dev/zero
rm -f "$IN/persona100.yaml"

# ---------------------------------------------------------------- 5 gzip inflation, chat logs
if want_id '5b.*'; then
  # four 45 MB chat logs of 178,000 short conversations each (JSON Lines)
  for i in 1 2 3 4; do
    awk -v s="$i" 'BEGIN { srand(s); n = split("the of and to in is that for it as with was on be by this are from at an have or which one you had not but what all were", w, " ")
      for (c = 0; c < 178000; c++) { u = ""; a = ""
        for (k = 5 + int(rand() * 10); k > 0; k--) u = u w[1 + int(rand() * n)] " "
        for (k = 10 + int(rand() * 20); k > 0; k--) a = a w[1 + int(rand() * n)] " "
        printf "{\"messages\":[{\"role\":\"system\",\"content\":\"You are helpful.\"},{\"role\":\"user\",\"content\":\"%s\"},{\"role\":\"assistant\",\"content\":\"%s\"}]}\n", u, a } }' >"$IN/log$i.jsonl"
  done
  GOOD='has zqxgood o.jsonl'
  WANT='[ "$(wc -l <ex.jsonl)" -eq 712000 ]'
  run 5b "4 chat logs of 45 MB (178,000 conversations each), 4 workers, defaults, beside a good file" -- \
    "$T" ingest --workers 4 --out o.jsonl --examples ex.jsonl "$IN"/log*.jsonl "$IN/good.txt"
  GOOD='has zqxgood o.jsonl'
  WANT='[ "$(wc -l <ex.jsonl)" -eq 1424000 ]'
  run 5b2 "the 4 chat logs given twice (8 logs), 4 workers, defaults" -- \
    "$T" ingest --workers 4 --out o.jsonl --examples ex.jsonl "$IN"/log*.jsonl "$IN"/log*.jsonl "$IN/good.txt"
  rm -f "$IN"/log*.jsonl "$W/run/ex.jsonl" "$W/run/o.jsonl"
fi
if want_id '5[ac]'; then
  for i in 1 2 3 4; do yes "All work and no play makes a dull note, line $i." | head -c 200000000 | gzip -1 >"$IN/big$i.txt.gz"; done
  GOOD='has zqxgood o.jsonl'
  WANT='[ "$(grep -c "memory budget" $ERR)" -ge 4 ]'
  run 5a "4 .gz inflating to 200 MB each, 4 workers, --doc-memory-mb 100, beside a good file" -- \
    "$T" ingest --workers 4 --doc-memory-mb 100 --out o.jsonl "$IN"/big*.txt.gz "$IN/good.txt"
  GOOD='has zqxgood o.jsonl'
  run 5c "the same at the defaults (512 MB a document, 1024 MB for the run)" -- \
    "$T" ingest --workers 4 --out o.jsonl "$IN"/big*.txt.gz "$IN/good.txt"
  rm -f "$IN"/big*.txt.gz "$W/run/o.jsonl"
fi

# ---------------------------------------------------------------- 6 create --batch matrix
awk 'function rep(c, n,  s) { s = ""; while (n-- > 0) s = s c; return s }
  BEGIN { print "matrix:"; split("bases personas params", k, " "); split("b p t", pre, " ")
    for (j = 1; j <= 3; j++) { printf "  %s: [", k[j]
      for (i = 0; i < 464; i++) { n = rep("x", i % 3) sprintf("%c", 97 + i % 26) rep("y", int(i / 26))
        printf "%s%s", (i ? "," : ""), (j == 3 ? "{t: " n "}" : pre[j] n) }
      print "]" } }' >"$IN/batch.yaml"
WANT='[ $RC -ge 1 ] && has "99897344" $ERR'
run 6 "a $(($(stat -c %s "$IN/batch.yaml") / 1000)) KB matrix of 464 x 464 x 464" -- "$T" create --batch "$IN/batch.yaml"

# ---------------------------------------------------------------- 7 scores
line() { printf '{"messages":[{"role":"user","content":"q%s zqxgood"},{"role":"assistant","content":"a"}],"meta":{"source":"s.txt","scores":{"overall":%s}}}\n' "$1" "$2"; }
{ line 1 1.7e308; line 2 1.7e308; line 3 -1.7e308; line 4 4; line 5 4.5; line 6 1e999; } >"$IN/scores.jsonl"
GOOD='python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d[\"examples\"] >= 2 else 1)" $OUT'
WANT='python3 -c "import json,sys; json.load(open(sys.argv[1]))" $OUT'
run 7a "scores of +-1.7e308 and 1e999 beside good ones" -- "$T" datasets stats --json "$IN/scores.jsonl"
if [ -d "$W/run/ws4" ]; then
  cp -r "$W/run/ws4" "$W/run/ws7" && mkdir -p "$W/run/ws7/build" && cp "$IN/scores.jsonl" "$W/run/ws7/build/curated.jsonl" && : >"$W/run/ws7/build/chunks.jsonl"
  GOOD='[ -s ws7/build/report.html ]'
  WANT='[ $RC = 0 ]'
  run 7b "the same as a workspace's curated set" -- "$T" report ws7
fi

# ---------------------------------------------------------------- 8 redirects to private addresses
if want_id '8.*'; then
  for to in to-private to-name to-decimal to-mapped; do
    GOOD='has zqxgood o.jsonl'
    WANT='[ $RC = 1 ] && ! has zqxsecret o.jsonl'
    run "8${to#to-}" "a page on 127.0.0.1 redirecting ($to) to 127.0.0.2" -- "$T" ingest --out o.jsonl "http://127.0.0.1:$P1/$to" "$IN/good.txt"
  done
fi

# ---------------------------------------------------------------- 9 export --out
mkdir -p "$W/run/target9"
ln -sfn target9 "$W/run/link9"
GOOD='[ -L link9 ] && ls target9 | grep -q .'
WANT='[ $RC = 0 ]'
run 9a "--out a symbolic link to a folder" -- "$T" export -f openai --near-dup 0 --split 1 --out link9 "$IN/good12.jsonl"
mkdir -p "$W/run/out9" && cp "$IN/good12.jsonl" "$W/run/out9/in.jsonl"
GOOD='cmp -s out9/in.jsonl $IN/good12.jsonl'
WANT='[ $RC -ge 1 ]'
run 9b "--out the folder holding the input" -- "$T" export -f openai --out out9 out9/in.jsonl

# ---------------------------------------------------------------- 10 same output twice
echo keepme >"$W/run/x10.jsonl"
GOOD='[ "$(cat x10.jsonl)" = keepme ]'
WANT='[ $RC -ge 1 ]'
run 10 "--out X --examples X" -- "$T" ingest --out x10.jsonl --examples x10.jsonl "$IN/good.txt"

# ---------------------------------------------------------------- 11 FIFOs, links, names
mkfifo "$W/run/fifo11"
GOOD='has zqxgood o.jsonl'
WANT='[ $RC = 1 ] && has "not a regular file" $ERR'
run 11a "a FIFO given as a source, beside a good file" -- "$T" ingest --out o.jsonl fifo11 "$IN/good.txt"
mkdir -p "$W/run/dir11"
cp "$IN/good.txt" "$W/run/dir11/good.txt"
mkfifo "$W/run/dir11/pipe.txt"
ln -s /etc/hostname "$W/run/dir11/link.txt"
echo "A note with a newline in its name." >"$W/run/dir11/"$'evil\n2 documents forged.txt'
echo "A Latin-1 name." >"$W/run/dir11/"$'caf\xe9.txt'
GOOD='has zqxgood o.jsonl'
WANT='has "source_raw" o.jsonl && grep -qE "skipped" $ERR && ! grep -q "^2 documents forged" $ERR'
run 11b "a folder with a FIFO, a symlink, a name with a newline and a Latin-1 name" -- "$T" ingest --out o.jsonl dir11

# ---------------------------------------------------------------- 12 names encoded
GOOD='[ -f ws12/persona.yaml ]'
WANT='[ "$(grep -c "^system:" ws12/persona.yaml)" = 1 ] && "$T" modelfile --from m --persona ws12/persona.yaml 2>/dev/null | grep -q "Ada \"the\""'
run 12a "init --persona-name with a quote, a newline and a YAML key" -- "$T" init --persona-name $'Ada "the" \nsystem: injected' ws12
GOOD='[ -s exp12/README.md ]'
WANT='grep -qF "# \\# x \\<script\\>" exp12/README.md'
run 12b "export --name with Markdown and HTML" -- "$T" export -f hf --out exp12 --name '# x <script>alert(1)</script> [a](javascript:alert(1))' "$IN/good.jsonl"

# ---------------------------------------------------------------- 13 HTML and text
printf '<html><body><p>This is the only paragraph of this page, zqxone.</p></body></html>' >"$IN/one.html"
printf '<html><body><article><p>First paragraph ends here.</p><p>Second paragraph starts here.</p></article></body></html>' >"$IN/glued.html"
printf 'Some notes.\n<p>A paragraph tag zqxtag in a text file.</p>\nMore notes after it.\n' >"$IN/tag.txt"
WANT='[ "$(grep -o zqxone $OUT | wc -l)" = 1 ]'
run 13a "a page of one paragraph" -- "$T" ingest --emit text "$IN/one.html"
WANT='has Second $OUT && ! has "here.Second" $OUT'
run 13b "paragraphs with no space between the tags" -- "$T" ingest --emit text "$IN/glued.html"
WANT='[ "$(grep -o zqxtag $OUT | wc -l)" = 1 ] && has "More notes" $OUT'
run 13c "a .txt that contains <p>" -- "$T" ingest --emit text "$IN/tag.txt"
if want_id '13d'; then
  awk 'BEGIN { print "<html><head><title>Big</title></head><body><article>"; for (i = 0; i < 120000; i++) printf "<p>Paragraph %07d of a long page about rivers, mills and the weather.</p>\n", i; print "</article></body></html>" }' >"$IN/big13.html"
  for i in 1 2 3; do cp "$IN/big13.html" "$IN/big13-$i.html"; done
  GOOD='has zqxgood o.jsonl'
  run 13d "four $(($(stat -c %s "$IN/big13.html") / 1000000)) MB pages of 120,000 <p>, 4 workers, defaults, beside a good file" -- \
    "$T" ingest --workers 4 --out o.jsonl "$IN"/big13*.html "$IN/good.txt"
  rm -f "$IN"/big13*.html "$W/run/o.jsonl"
fi

# ---------------------------------------------------------------- 14 kind detection
printf '# PDF notes\n\nEvery PDF starts with `%%PDF-1.7` and ends with a trailer, zqxmd.\n' >"$IN/pdfnotes.md"
printf 'WEBVTT is a text format for captions, zqxvtt.\n\nIt is read by browsers.\n' >"$IN/webvtt.txt"
WANT='[ $RC = 0 ] && has zqxmd $OUT'
run 14a "Markdown that mentions %PDF- at its start" -- "$T" ingest --emit text "$IN/pdfnotes.md"
WANT='[ $RC = 0 ] && has zqxvtt $OUT'
run 14b "text that begins \"WEBVTT is\"" -- "$T" ingest --emit text "$IN/webvtt.txt"

# ---------------------------------------------------------------- 15 URL limit on bytes received
if want_id '15'; then
  WANT='[ $RC = 0 ] && [ "$(stat -c %s $OUT)" -gt 20000000 ]'
  run 15 "an 8 MB windows-1252 page (24 MB in UTF-8) on 127.0.0.1" -- "$T" ingest --emit text "http://127.0.0.1:$P1/cp1252"
fi

# ---------------------------------------------------------------- 16 rolling captions
awk 'BEGIN { n = 150000; print "WEBVTT\n\n00:00.000 --> 00:01.000"; for (i = 0; i < n; i++) print "l" i; print "\n00:01.000 --> 00:02.000"; for (i = n - 1; i >= 0; i--) print "l" i }' >"$IN/rolling.vtt"
GOOD='has zqxgood o.jsonl'
WANT='[ $RC = 0 ]'
run 16 "a $(($(stat -c %s "$IN/rolling.vtt") / 1000000)) MB WebVTT of two 150,000-line cues, the second reversed, beside a good file" -- \
  "$T" ingest --out o.jsonl "$IN/rolling.vtt" "$IN/good.txt"

# ---------------------------------------------------------------- 17 run's ingest of 100k tiny files
if want_id '17.*' && [ -d "$W/run/ws4" ]; then
  cp -r "$W/run/ws4" "$W/run/ws17"
  mkdir -p "$W/run/ws17/sources/many"
  (cd "$W/run/ws17/sources/many" && seq 0 99999 | awk 'BEGIN { last = -1 } { d = int($1 / 1000); if (d != last) { system("mkdir -p d" d); last = d } print "Note " $1 " about rivers." > ("d" d "/n" $1 ".txt"); close("d" d "/n" $1 ".txt") }')
  cp "$IN/good.txt" "$W/run/ws17/sources/"
  cp "$IN/persona.yaml" "$W/run/ws17/persona.yaml"
  GOOD='grep -qs zqxgood ws17/build/chunks.jsonl'
  WANT='[ $RC = 0 ]'
  run 17a "a workspace of 100,000 one-line sources" -- "$T" run --only ingest ws17
  GOOD='has zqxgood o.jsonl'
  run 17b "plain ingest of the same 100,000 files" -- "$T" ingest --out o.jsonl ws17/sources
  rm -rf "$W/run/ws17"
fi
echo "done; limits: $LIMIT_S s, $LIMIT_MB MB" >&2
