"""Build the example extension: python setup.py build_ext --inplace"""
from Cython.Build import cythonize
from setuptools import Extension, setup

import geomcore

setup(
    name="cube_kernel",
    ext_modules=cythonize([Extension("cube_kernel", ["cube_kernel.pyx"])],
                          include_path=[geomcore.get_include()],
                          compiler_directives={"language_level": 3}),
)
