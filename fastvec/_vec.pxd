# Short-vector float32 helpers for the kernels: thin names over fastvec/_fv_simd.h, whose
# implementation is chosen at compile time by the ISA flags of the including module
# (baseline, AVX2, AVX-512; see setup.py and fastvec/_dispatch.py).
cdef extern from "_fv_simd.h" nogil:
    float dot "fv_dot"(const float* x, const float* y, int n) noexcept
    void axpy "fv_axpy"(float a, const float* x, float* y, int n) noexcept
    void add "fv_add"(const float* x, float* y, int n) noexcept
    void scale "fv_scale"(float a, float* x, int n) noexcept
    void zero "fv_zero"(float* x, int n) noexcept
