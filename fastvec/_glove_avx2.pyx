# The GloVe epoch kernel compiled for the "avx2" instruction set (flags in setup.py).
# All code is in _glove.pxi; fastvec._dispatch imports the best variant for this CPU.
include "_glove.pxi"
