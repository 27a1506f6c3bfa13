#!/usr/bin/env bash
# Regenerates the real traces in this folder (valgrind 3.19, gcc, x86-64). Run from this folder.
set -euo pipefail
gcc -O1 -static -nostdlib -fno-stack-protector -o /tmp/pages pages.c
valgrind --tool=lackey --trace-mem=yes --log-file=/tmp/pages.lackey /tmp/pages
gzip -9 -c /tmp/pages.lackey > pages.lackey.gz
xz -9e -c /tmp/pages.lackey > pages.lackey.xz
valgrind --tool=lackey --trace-mem=yes --log-file=/tmp/true.lackey /bin/true
xz -9e -c /tmp/true.lackey > true.lackey.xz
python3 make-champsim.py small.champsimtrace
xz -9e -c small.champsimtrace > small.champsimtrace.xz && rm small.champsimtrace
