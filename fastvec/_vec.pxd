# Short-vector float32 helpers. They are inlined into each kernel module and so compiled
# with that module's ISA flags (baseline, AVX2, AVX-512); setup.py's -fassociative-math lets
# the compiler vectorise the reduction in dot().
cdef inline float dot(const float* x, const float* y, int n) noexcept nogil:
    cdef float s = 0.0
    cdef int i
    for i in range(n):
        s = s + x[i] * y[i]
    return s

cdef inline void axpy(float a, const float* x, float* y, int n) noexcept nogil:
    cdef int i
    for i in range(n):
        y[i] = y[i] + a * x[i]

cdef inline void scale(float a, float* x, int n) noexcept nogil:
    cdef int i
    for i in range(n):
        x[i] = a * x[i]

cdef inline void zero(float* x, int n) noexcept nogil:
    cdef int i
    for i in range(n):
        x[i] = 0.0

cdef inline void add(const float* x, float* y, int n) noexcept nogil:
    cdef int i
    for i in range(n):
        y[i] = y[i] + x[i]
