"""Facts about the compiled extension and the CPU it runs on (no kernels here)."""

cdef extern from "_fv_platform.h" nogil:
    const int FV_OPENMP
    const int FV_HAVE_CPU_CHECK
    const int FV_DEBUG
    int fv_omp_max_threads() noexcept
    int fv_omp_num_procs() noexcept
    int fv_omp_thread_limit() noexcept
    int fv_cpu_has_avx2() noexcept
    int fv_cpu_has_avx512() noexcept


def openmp_enabled() -> bool:
    """True when the extensions were compiled with OpenMP."""
    return bool(FV_OPENMP)


def debug_build() -> bool:
    """True for FASTVEC_DEBUG=1 builds (bounds and index checks on)."""
    return bool(FV_DEBUG)


def openmp_max_threads() -> int:
    """OpenMP's default team size (1 without OpenMP)."""
    return fv_omp_max_threads()


def openmp_num_procs() -> int:
    """Processors OpenMP may use (``omp_get_num_procs``; 1 without OpenMP). With OMP_PROC_BIND
    set, libgomp pins the calling thread to one place when it starts, so the process's
    affinity mask no longer shows the cores; this still counts them."""
    return fv_omp_num_procs()


def openmp_thread_limit() -> int:
    """The most threads OpenMP will start (``OMP_THREAD_LIMIT``; 1 without OpenMP)."""
    return fv_omp_thread_limit()


def cpu_features() -> dict:
    """SIMD levels usable on this CPU (False where the compiler cannot tell)."""
    return {"checked": bool(FV_HAVE_CPU_CHECK), "avx2": bool(fv_cpu_has_avx2()),
            "avx512": bool(fv_cpu_has_avx512())}
