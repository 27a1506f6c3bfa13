#!/usr/bin/env python3
"""Writes a small ChampSim trace: 200 records of input_instr (64 bytes, little-endian), deterministic.
Record i: ip = 0x400000 + 4*i; is_branch = i % 7 == 0; branch_taken = i % 14 == 0;
src_mem[0] = 0x10000000 + 64*i when i % 2 == 0; src_mem[1] = 0x7ff000000 + 8*i when i % 3 == 0;
dst_mem[0] = 0x20000000 + 4096*(i % 50) when i % 5 == 0; the other addresses are 0.
ChampSimTraceTests.Expected rebuilds the same records."""
import struct, sys
with open(sys.argv[1], "wb") as f:
    for i in range(200):
        src = [0x10000000 + 64 * i if i % 2 == 0 else 0, 0x7ff000000 + 8 * i if i % 3 == 0 else 0, 0, 0]
        dst = [0x20000000 + 4096 * (i % 50) if i % 5 == 0 else 0, 0]
        f.write(struct.pack("<QBB2B4B2Q4Q", 0x400000 + 4 * i, int(i % 7 == 0), int(i % 14 == 0), 0, 0, 0, 0, 0, 0, *dst, *src))
