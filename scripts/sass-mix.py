#!/usr/bin/env python3
"""sass-mix.py: the instruction mix of the tensor-core kernels' main loops, read from their SASS,
so a change to a fused kernel is measured on a machine without a GPU (what it costs per mma.sync,
not how fast it runs).

  scripts/sass-mix.py OBJECT [--arch sm_90] [--filter NAME] [--csv]
  scripts/sass-mix.py --sass FILE [--filter NAME] [--csv]

OBJECT: a .o from build/cuda-obj/ or a linked binary; or --sass, the text `cuobjdump -sass` printed
(made elsewhere, or a test's fixture). For each kernel whose name contains NAME
(default: every kernel with HMMA), the loop (backward branch) holding the most HMMA instructions:
its static length (every path through the body, e.g. a masked and an unmasked one, counted once),
HMMA, LDSM, LDGSTS, local-memory spills (LDL/STL) inside it, and the other instructions per HMMA.
Needs cuobjdump and the nvdisasm it runs: $CUOBJDUMP, the CUDA toolkit's, or PyPI's
(`pip install nvidia-cuda-cuobjdump nvidia-cuda-nvdisasm`; the toolkit installed here has nvcc
without them). Exit 2 on bad input or when neither is found.
"""
import argparse
import collections
import csv
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig


def find_cuobjdump():
    cands = [os.environ.get("CUOBJDUMP", ""), os.path.join(os.environ.get("CUDA_HOME", "/usr/local/cuda"), "bin", "cuobjdump"),
             shutil.which("cuobjdump") or ""]
    for site in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}:
        cands += sorted(glob.glob(os.path.join(site, "nvidia", "cu*", "bin", "cuobjdump")), reverse=True)
        cands += glob.glob(os.path.join(site, "nvidia", "cuda_cuobjdump", "bin", "cuobjdump"))
    return next((c for c in cands if c and os.access(c, os.X_OK)), None)


def short_name(mangled):
    """_Z16flash_fwd_kernelI13__nv_bfloat16Li128ELi1ELi2EEv... -> flash_fwd_kernel<bf16,128,1,2>"""
    m = re.match(r"_Z\d+(\w+?)I(.*?)Ev", mangled)
    if not m:
        return mangled
    args = m.group(2).replace("13__nv_bfloat16", "bf16").replace("6__half", "f16")
    args = re.sub(r"Lb([01])", lambda x: ",true" if x.group(1) == "1" else ",false", args)
    args = re.sub(r"E?Li(-?\d+)", r",\1", args).replace("E", "")
    return f"{m.group(1)}<{args.lstrip(',')}>"


def main_loop(body):
    ins = []
    for line in body.splitlines():
        m = re.match(r"\s+/\*([0-9a-f]{4,})\*/\s+(.*?)\s*;", line)
        if m:
            ins.append((int(m.group(1), 16), m.group(2)))
    index = {a: i for i, (a, _) in enumerate(ins)}
    best = None
    for i, (a, op) in enumerate(ins):
        t = re.search(r"\bBRA\b.*?0x([0-9a-f]+)", op)
        if t and int(t.group(1), 16) < a and int(t.group(1), 16) in index:
            loop = [o for _, o in ins[index[int(t.group(1), 16)]:i + 1]]
            hmma = sum(o.split()[0 if not o.startswith("@") else 1].startswith("HMMA") for o in loop)
            if best is None or hmma > best[0]:
                best = (hmma, loop)
    return best


def opcode(op):
    op = re.sub(r"^@!?U?P\w+\s+", "", op)
    return op.split()[0].split(".")[0]


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)   # `| head` ends the listing quietly
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("object", nargs="?")
    ap.add_argument("--sass", help="read this cuobjdump -sass listing instead of running cuobjdump")
    ap.add_argument("--arch", default="sm_90")
    ap.add_argument("--filter", default="")
    ap.add_argument("--csv", action="store_true")
    a = ap.parse_args()
    if (a.object is None) == (a.sass is None):
        print("sass-mix: give an OBJECT or --sass FILE", file=sys.stderr)
        return 2
    path = a.sass or a.object
    if not os.path.isfile(path):
        print(f"sass-mix: {path}: no such file", file=sys.stderr)
        return 2
    if a.sass:
        with open(a.sass, errors="replace") as f:
            listing = f.read()
        if "Function : " not in listing:
            print(f"sass-mix: {a.sass}: no 'Function :' in it (not a cuobjdump -sass listing)", file=sys.stderr)
            return 2
        return report(listing, a)
    tool = find_cuobjdump()
    if not tool:
        print("sass-mix: no cuobjdump (set CUOBJDUMP, or pip install nvidia-cuda-cuobjdump)", file=sys.stderr)
        return 2
    env = dict(os.environ)   # cuobjdump -sass runs nvdisasm: the one beside it (PyPI's wheels), else PATH's
    env["PATH"] = os.path.dirname(tool) + os.pathsep + env.get("PATH", "")
    r = subprocess.run([tool, "-sass", "-arch", a.arch, a.object], capture_output=True, text=True, env=env)
    if r.returncode != 0 or "Function :" not in r.stdout:
        print(f"sass-mix: {a.object}: no {a.arch} SASS ({r.stderr.strip() or 'cuobjdump found none'})", file=sys.stderr)
        return 2
    return report(r.stdout, a)


def report(listing, a):
    rows = []
    for f in listing.split("Function : ")[1:]:
        name = f.split()[0]
        if a.filter not in name:
            continue
        best = main_loop(f)
        if not best or best[0] == 0:
            continue
        hmma, loop = best
        c = collections.Counter(opcode(o) for o in loop)
        rows.append((short_name(name), len(loop), hmma, c["LDSM"], c["LDGSTS"], c["LDL"] + c["STL"], (len(loop) - hmma) / hmma))
    if not rows:
        print(f"sass-mix: no kernel with HMMA matches '{a.filter}'", file=sys.stderr)
        return 2
    if a.csv:
        out = csv.writer(sys.stdout, lineterminator="\n")
        out.writerow(["kernel", "loop_instructions", "hmma", "ldsm", "ldgsts", "spill_ops", "other_per_hmma"])
        for row in rows:
            out.writerow(list(row[:-1]) + [f"{row[-1]:.2f}"])
    else:
        w = max(len(r[0]) for r in rows)
        print(f"{'kernel':{w}}  loop  HMMA  LDSM LDGSTS spills other/HMMA")
        for n, length, hmma, ldsm, ldgsts, spills, ratio in rows:
            print(f"{n:{w}} {length:5d} {hmma:5d} {ldsm:5d} {ldgsts:6d} {spills:6d} {ratio:10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
