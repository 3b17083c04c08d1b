# C types shared by the geomcore kernels. tests/test_types.py checks them against numpy dtypes.
from libc.stdint cimport int64_t, uint64_t

ctypedef double float64_t     # every stored value (numpy float64)
ctypedef int64_t index_t      # every stored index (numpy int64)
ctypedef uint64_t word_t      # one word of a bitset
