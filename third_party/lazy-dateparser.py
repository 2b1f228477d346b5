#!/usr/bin/env python3
"""Make a copy of go-dateparser that builds its locale tables on first use.

go-dateparser (pulled in by go-trafilatura -> go-htmldate) builds the data of
all 205 locale files (504 locales) in init functions: about 130 ms and 78 MB before main in
every tuneline command, although only HTML ingestion ever parses a date. This
script copies the module from the Go module cache into
third_party/go-dateparser and turns each locale file's init into a load
function run once by GetLocaleData, the only way in to those tables. Nothing
else changes. go.mod points at the copy with a replace directive.

usage: python3 third_party/lazy-dateparser.py   (from the repository root)
"""
import os, re, shutil, subprocess, sys

VERSION = "v1.2.3"
mod = subprocess.check_output(["go", "env", "GOMODCACHE"], text=True).strip()
src = os.path.join(mod, "github.com/markusmobius/go-dateparser@" + VERSION)
if not os.path.isdir(src):
    subprocess.check_call(["go", "mod", "download", "github.com/markusmobius/go-dateparser@" + VERSION])
dst = os.path.join("third_party", "go-dateparser")
shutil.rmtree(dst, ignore_errors=True)
shutil.copytree(src, dst, ignore=shutil.ignore_patterns("*_test.go", "scripts", "data-supplementary", "testdata", "*.md"))
shutil.copy(os.path.join(src, "README.md"), os.path.join(dst, "README.md"))
for root, dirs, files in os.walk(dst):
    os.chmod(root, 0o755)
    for f in files:
        os.chmod(os.path.join(root, f), 0o644)

data = os.path.join(dst, "internal", "data")
owner = {}  # locale variable -> load function
onces = []
for f in sorted(os.listdir(data)):
    if not f.endswith(".go") or f[:2].isdigit():
        continue
    p = os.path.join(data, f)
    s = open(p, encoding="utf-8").read()
    ident = f[:-3].replace("-", "_")
    if s.count("func init() {") != 1:
        sys.exit(f"{f}: expected one init function")
    s = s.replace("func init() {", f"func load_{ident}() {{", 1)
    open(p, "w", encoding="utf-8").write(s)
    for v in re.findall(r"^\s*(\w+_Locale)\s+LocaleData", s, re.M):
        owner[v] = ident
    onces.append(ident)

p = os.path.join(data, "00-locale-data.go")
s = open(p, encoding="utf-8").read()
def ret(m):
    v = m.group(1)
    return f"once_{owner[v]}.Do(load_{owner[v]})\n\t\treturn &{v}, true"
s, n = re.subn(r"return &(\w+_Locale), true", ret, s)
if n != len(owner):
    sys.exit(f"GetLocaleData returns {n} locales, the files declare {len(owner)}")
s = s.replace('import (\n\t"sort"\n', 'import (\n\t"sort"\n\t"sync"\n', 1)
s += "\n// Patched by tuneline (third_party/lazy-dateparser.py): each locale file's\n// data is built on first use instead of in init.\nvar (\n"
s += "".join(f"\tonce_{i} sync.Once\n" for i in onces) + ")\n"
open(p, "w", encoding="utf-8").write(s)
subprocess.check_call(["gofmt", "-w", data])
print(f"{dst}: {len(onces)} locale files load lazily ({len(owner)} locales)")
