# The word2vec kernels compiled for the "avx2" instruction set (flags in setup.py).
# All code is in _word2vec.pxi; fastvec._dispatch imports the best variant for this CPU.
include "_word2vec.pxi"
