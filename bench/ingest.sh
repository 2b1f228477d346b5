#!/usr/bin/env bash
# Ingest benchmark: extraction quality on the shared corpora (scored with
# ../shared/bench scorers) and speed against pdftotext (poppler-utils,
# installed here when missing).
#
# usage: bench/ingest.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SHARED=${SHARED:-$ROOT/../shared}
C=$SHARED/corpora
OUT=${BENCH_OUT:-$ROOT/bench/out}
mkdir -p "$OUT"
if ! command -v pdftotext >/dev/null; then
  (apt-get install -y poppler-utils || sudo apt-get install -y poppler-utils) >/dev/null
fi
go build -o "$OUT/tuneline" ./cmd/tuneline

secs() { /usr/bin/time -f "%e" -o "$OUT/t.txt" "$@" >/dev/null 2>&1 || true; tail -1 "$OUT/t.txt"; }

echo "== PDF: GeoTopo (117 pages), score-text ratio against the ground truth"
GEO=$C/pdf-geotopo/pdfs/GeoTopo-komprimiert.pdf
REF=$C/pdf-geotopo/ground-truth/GeoTopo-book.txt
t_tl=$(secs "$OUT/tuneline" -q ingest --emit text --out "$OUT/geotopo-tuneline.txt" "$GEO")
t_pt=$(secs pdftotext "$GEO" "$OUT/geotopo-pdftotext.txt")
printf "   tuneline:  %s  (%s s)\n" "$(python3 "$SHARED/bench/score-text" "$REF" "$OUT/geotopo-tuneline.txt")" "$t_tl"
printf "   pdftotext: %s  (%s s)\n" "$(python3 "$SHARED/bench/score-text" "$REF" "$OUT/geotopo-pdftotext.txt")" "$t_pt"
printf "   tuneline --normalize:  %s\n" "$(python3 "$SHARED/bench/score-text" "$REF" "$OUT/geotopo-tuneline.txt" --normalize)"
printf "   pdftotext --normalize: %s\n" "$(python3 "$SHARED/bench/score-text" "$REF" "$OUT/geotopo-pdftotext.txt" --normalize)"

echo "== PDF: speed over all PDFs of pdf-geotopo and pdf-samples"
mapfile -t PDFS < <(ls "$C"/pdf-geotopo/pdfs/*.pdf "$C"/pdf-samples/*/*.pdf)
t_tl=$(secs "$OUT/tuneline" -q ingest --emit text --workers 1 --out /dev/null "${PDFS[@]}")
start=$(date +%s.%N); for f in "${PDFS[@]}"; do pdftotext "$f" /dev/null 2>/dev/null || true; done; end=$(date +%s.%N)
t_pt=$(echo "$end - $start" | bc)
echo "   ${#PDFS[@]} files: tuneline $t_tl s (one worker), pdftotext $t_pt s; ratio $(echo "scale=2; $t_tl / $t_pt" | bc)"

echo "== HTML: html-articles (61 pages), F1 of score-html-articles"
go test ./ingest -run TestHTMLArticlesQuality -v -count=1 | grep -o "f1=.*pages=[0-9]*" | head -1 | sed 's/^/   tuneline: /'
MB=$(du -cm "$C"/html-articles/html/*.html.gz | tail -1 | cut -f1)
RAW=$(for f in "$C"/html-articles/html/*.html.gz; do gzip -dc "$f"; done | wc -c)
t_h=$(secs "$OUT/tuneline" -q ingest --workers 1 --out /dev/null "$C"/html-articles/html)
echo "   speed: $(echo "scale=1; $RAW / 1000000 / $t_h" | bc) MB/s of HTML on one worker ($t_h s for $(echo "scale=1; $RAW/1000000" | bc) MB)"

echo "== WebVTT: web-platform-tests file-parsing cases"
go test ./ingest/transcript -run TestWPTFileParsing -v -count=1 | grep -c -- "--- PASS: TestWPTFileParsing/" | sed 's/^/   passed: /; s/$/ of 36/'
