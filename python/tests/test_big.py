"""A 1 GiB download from a local nginx into a file, in a child process whose peak
memory is measured before and after: the body streams to the file (sockit's file sink)
and never sits in memory. Bounded in time (the child is killed after 5 minutes)."""

import json
import os
import subprocess
import sys

import pytest

CHILD = r"""
import json, sys
import sockit

def peak_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])

url, out = sys.argv[1], sys.argv[2]
sockit.http.get(url.replace("big.bin", "small.txt"))  # warm up: everything imported
before = peak_kib()
seen = []
r = sockit.http.get(url, sink=out, timeout=60, progress=lambda n: seen.append(n) if len(seen) < 3 else None)
after = peak_kib()
print(json.dumps({"status": r.status_code, "received": r.received, "content": len(r.content),
                  "before": before, "after": after, "progress": seen}))
"""


@pytest.mark.big
def test_1gib_download_into_a_file_at_flat_memory(nginx, tmp_path):
    base, root = nginx
    big = os.path.join(root, "big.bin")
    size = os.path.getsize(big)
    assert size == 1 << 30
    with open(os.path.join(root, "small.txt"), "wb") as f:
        f.write(b"small\n")
    out = tmp_path / "big.out"
    try:
        p = subprocess.run([sys.executable, "-c", CHILD, base + "/big.bin", str(out)],
                           capture_output=True, timeout=300)
        assert p.returncode == 0, p.stderr.decode()[-2000:]
        res = json.loads(p.stdout.decode().strip().splitlines()[-1])
        assert res["status"] == 200
        assert res["received"] == size and res["content"] == 0
        assert out.stat().st_size == size
        grown = res["after"] - res["before"]
        assert grown < 32 * 1024, "peak memory grew by %d KiB" % grown
        assert res["progress"] and res["progress"][0] > 0
        with open(out, "rb") as f:
            assert f.read(1 << 20) == bytes(1 << 20)
            f.seek(size - (1 << 20))
            assert f.read() == bytes(1 << 20)
    finally:
        if out.exists():
            out.unlink()
