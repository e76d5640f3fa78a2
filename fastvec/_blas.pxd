# BLAS for the kernels, through scipy.linalg.cython_blas only (nothing is linked at build
# time: scipy hands over its own BLAS's function pointers when the module is imported).
# Row-major conveniences over column-major Fortran BLAS.
from scipy.linalg.cython_blas cimport sgemm as _sgemm


cdef inline void gemm_nt(int m, int n, int k, float alpha, const float* a, const float* b, float beta,
                         float* c) noexcept nogil:
    """C[m][n] = alpha A[m][k] B[n][k]^T + beta C   (row-major, contiguous)."""
    cdef char trans = b'T'
    cdef char notrans = b'N'
    # column-major: C^T (n x m) = B (n x k, stored k x n) ^T-ed ... = B A^T
    _sgemm(&trans, &notrans, &n, &m, &k, &alpha, <float*>b, &k, <float*>a, &k, &beta, c, &n)


cdef inline void gemm_nn(int m, int n, int k, float alpha, const float* a, const float* b, float beta,
                         float* c) noexcept nogil:
    """C[m][n] = alpha A[m][k] B[k][n] + beta C   (row-major, contiguous)."""
    cdef char notrans = b'N'
    _sgemm(&notrans, &notrans, &n, &m, &k, &alpha, <float*>b, &n, <float*>a, &k, &beta, c, &n)


cdef inline void gemm_tn(int m, int n, int k, float alpha, const float* a, const float* b, float beta,
                         float* c) noexcept nogil:
    """C[m][n] = alpha A[k][m]^T B[k][n] + beta C   (row-major, contiguous)."""
    cdef char trans = b'T'
    cdef char notrans = b'N'
    _sgemm(&notrans, &trans, &n, &m, &k, &alpha, <float*>b, &n, <float*>a, &m, &beta, c, &n)
