"""Build the Cython kernels; all metadata lives in pyproject.toml."""
import os

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

DEBUG = os.environ.get("GEOMCORE_CYTHON_DEBUG", "0") == "1"

directives = {
    "language_level": 3,
    "wraparound": False,
    "cdivision": True,
    "embedsignature": True,
    "boundscheck": DEBUG,
    "initializedcheck": DEBUG,
}

extensions = [
    Extension(
        "geomcore._kernels._exact",
        ["geomcore/_kernels/_exact.pyx"],
        include_dirs=[np.get_include(), "geomcore/_kernels"],
        extra_compile_args=["-O3"] if not DEBUG else ["-O0", "-g"],
    ),
    Extension(
        "geomcore._kernels._polytope",
        ["geomcore/_kernels/_polytope.pyx"],
        include_dirs=[np.get_include()],
        extra_compile_args=["-O3"] if not DEBUG else ["-O0", "-g"],
    ),
    Extension(
        "geomcore._kernels._complex",
        ["geomcore/_kernels/_complex.pyx"],
        include_dirs=[np.get_include()],
        extra_compile_args=["-O3"] if not DEBUG else ["-O0", "-g"],
    ),
    Extension(
        "geomcore._kernels._datacells",
        ["geomcore/_kernels/_datacells.pyx"],
        include_dirs=[np.get_include()],
        extra_compile_args=["-O3"] if not DEBUG else ["-O0", "-g"],
    ),
    Extension(
        "geomcore._kernels._trees",
        ["geomcore/_kernels/_trees.pyx"],
        include_dirs=[np.get_include()],
        extra_compile_args=["-O3"] if not DEBUG else ["-O0", "-g"],
    ),
]

setup(ext_modules=cythonize(extensions, compiler_directives=directives))
