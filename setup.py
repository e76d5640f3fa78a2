"""Build script for fastvec's Cython extensions.

What it decides, once, here (see README "Building"):

* OpenMP: used when the compiler can compile *and link* a small OpenMP program;
  otherwise the kernels build serial. Force with FASTVEC_OPENMP=0/1.
* Portability: the default build targets the platform baseline (no -march=native).
  The hot kernels are additionally compiled as AVX2 and AVX-512 variants on x86-64;
  ``fastvec._dispatch`` imports the best variant the running CPU supports.
  FASTVEC_SIMD_VARIANTS=0 builds the baseline only.
* Debug: FASTVEC_DEBUG=1 turns Cython bounds checks on and optimisation down.
* Cython directives live here and nowhere else.
"""
import os
import platform
import shutil
import sys
import tempfile
import textwrap

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.sdist import sdist

DEBUG = os.environ.get("FASTVEC_DEBUG", "0") not in ("", "0")
MACHINE = platform.machine().lower()
IS_X86_64 = MACHINE in ("x86_64", "amd64")
BUILD_VARIANTS = IS_X86_64 and os.environ.get("FASTVEC_SIMD_VARIANTS", "1") != "0"

DIRECTIVES = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": False,
    "initializedcheck": DEBUG,
    "nonecheck": False,
    "cdivision": True,
    "embedsignature": True,
    "freethreading_compatible": False,
}

# Kernels that get per-ISA variants: module name -> shared implementation (.pxi)
VARIANT_KERNELS = ["_word2vec", "_glove"]
# variant name -> flags per compiler family
VARIANT_FLAGS = {
    "avx2": {"unix": ["-mavx2", "-mfma"], "msvc": ["/arch:AVX2"]},
    "avx512": {
        "unix": ["-mavx512f", "-mavx512cd", "-mavx512vl", "-mavx512bw", "-mavx512dq",
                 "-mavx2", "-mfma", "-mprefer-vector-width=512"],
        "msvc": ["/arch:AVX512"],
    },
}
PLAIN_MODULES = ["_runtime", "_text", "_sampling", "_cooccur"]

OPENMP_TEST = textwrap.dedent(
    """
    #include <omp.h>
    #include <stdio.h>
    int main(void) {
        int n = 0;
        #pragma omp parallel reduction(+:n)
        n += 1;
        printf("%d %d\\n", n, omp_get_max_threads());
        return 0;
    }
    """
)


def _compiler_family(compiler):
    return "msvc" if compiler.compiler_type == "msvc" else "unix"


def _openmp_flag_candidates(family):
    if family == "msvc":
        return [(["/openmp"], [])]
    if sys.platform == "darwin":
        prefixes = [os.environ.get("OpenMP_ROOT"), "/opt/homebrew/opt/libomp", "/usr/local/opt/libomp"]
        cands = [(["-fopenmp"], ["-fopenmp"])]
        for p in filter(None, prefixes):
            cands.append((["-Xpreprocessor", "-fopenmp", f"-I{p}/include"],
                          [f"-L{p}/lib", "-lomp", f"-Wl,-rpath,{p}/lib"]))
        return cands
    return [(["-fopenmp"], ["-fopenmp"])]


def _detect_openmp(compiler):
    """Return (compile_flags, link_flags) if an OpenMP program compiles and links, else None."""
    forced = os.environ.get("FASTVEC_OPENMP")
    if forced == "0":
        return None
    family = _compiler_family(compiler)
    tmp = tempfile.mkdtemp(prefix="fastvec-omp-")
    try:
        src = os.path.join(tmp, "omp_test.c")
        with open(src, "w") as f:
            f.write(OPENMP_TEST)
        for cflags, lflags in _openmp_flag_candidates(family):
            try:
                objs = compiler.compile([src], output_dir=tmp, extra_postargs=cflags)
                compiler.link_executable(objs, "omp_test", output_dir=tmp, extra_postargs=lflags)
                return cflags, lflags
            except Exception:  # noqa: BLE001 - any compiler/linker failure means "no"
                continue
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if forced == "1":
        raise RuntimeError("FASTVEC_OPENMP=1 but no OpenMP flags worked with this compiler")
    return None


class BuildExt(build_ext):
    """Adds optimisation, OpenMP and per-variant ISA flags once the compiler is known."""

    def build_extensions(self):
        # a switch between debug and release builds must rebuild every extension
        marker = os.path.join(self.build_temp, "fastvec-build-mode")
        mode = "debug" if DEBUG else "release"
        if not os.path.exists(marker) or open(marker).read() != mode:
            self.force = True
        os.makedirs(self.build_temp, exist_ok=True)
        with open(marker, "w") as f:
            f.write(mode)
        family = _compiler_family(self.compiler)
        openmp = _detect_openmp(self.compiler)
        print(f"fastvec build: compiler={self.compiler.compiler_type} openmp={'on' if openmp else 'off'} "
              f"debug={DEBUG} simd_variants={BUILD_VARIANTS}")
        if family == "msvc":
            base = ["/Od", "/Zi"] if DEBUG else ["/O2", "/fp:precise"]
        else:
            base = ["-O1", "-g", "-UNDEBUG"] if DEBUG else ["-O3"]
            # Reassociation lets the compiler vectorise float reductions (dot products).
            # We do NOT use -ffast-math: -ffinite-math-only would fold away NaN checks.
            base += ["-fno-math-errno", "-fno-trapping-math", "-fassociative-math", "-fno-signed-zeros",
                     "-Wno-unreachable-code", "-Wno-unused-function"]
        for ext in self.extensions:
            ext.extra_compile_args = list(base)
            ext.extra_link_args = []
            if openmp:
                ext.extra_compile_args += openmp[0]
                ext.extra_link_args += openmp[1]
            variant = getattr(ext, "fastvec_variant", None)
            if variant:
                ext.extra_compile_args += VARIANT_FLAGS[variant][family]
        super().build_extensions()


def _extensions():
    from Cython.Build import cythonize

    common = dict(include_dirs=["fastvec"], define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")])
    if DEBUG:
        common["define_macros"] = common["define_macros"] + [("FASTVEC_DEBUG", "1")]
    exts = [Extension(f"fastvec.{name}", [f"fastvec/{name}.pyx"], **common) for name in PLAIN_MODULES]
    for kernel in VARIANT_KERNELS:
        variants = ["baseline"] + (list(VARIANT_FLAGS) if BUILD_VARIANTS else [])
        for variant in variants:
            ext = Extension(f"fastvec.{kernel}_{variant}", [f"fastvec/{kernel}_{variant}.pyx"], **common)
            ext.fastvec_variant = None if variant == "baseline" else variant
            exts.append(ext)
    # Generated C goes to a directory per build mode: the directives (bounds checks) are baked
    # into it, and timestamps alone would otherwise reuse the other mode's C.
    built = cythonize(exts, compiler_directives=DIRECTIVES, compile_time_env={}, quiet=True,
                      include_path=["fastvec"], build_dir=os.path.join("build", "cython-debug" if DEBUG else "cython"))
    # cythonize returns new Extension objects; carry our attribute over by name
    by_name = {e.name: getattr(e, "fastvec_variant", None) for e in exts}
    for e in built:
        e.fastvec_variant = by_name.get(e.name)
    return built


class SDist(sdist):
    """The sdist carries the Cython sources (.pyx/.pxd/.pxi/.h, as package data) and the tests,
    never generated C: cythonize() lists the .c files as the extensions' sources, and a shipped
    .c (made by whatever Cython the packager had) would be compiled instead of the .pyx. fastvec
    has no hand-written C files (only headers), so every .c is generated."""

    def make_distribution(self):
        files = self.filelist
        files.exclude_pattern(r"\.(c|cpp|html)$", is_regex=True)
        files.graft("tests")
        files.global_exclude("*.py[cod]")
        super().make_distribution()


setup(ext_modules=_extensions(), cmdclass={"build_ext": BuildExt, "sdist": SDist})
