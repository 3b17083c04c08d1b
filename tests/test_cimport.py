"""Other packages can cimport the kernels: build examples/embed against geomcore's .pxd files."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "embed"


@pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None,
                    reason="needs a C compiler")
def test_cimport_polytope_kernel_from_another_extension(tmp_path):
    pytest.importorskip("Cython")
    import geomcore

    for name in ("cube_kernel.pyx", "setup.py"):
        shutil.copy(EXAMPLE / name, tmp_path / name)
    # the geomcore under test, whether installed or run from a source tree
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [geomcore.get_include(), os.environ.get("PYTHONPATH", "")]))
    build = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"], cwd=tmp_path,
                           capture_output=True, text=True, env=env)
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    code = ("import numpy as np, cube_kernel; "
            "A = np.vstack([np.eye(3), -np.eye(3)]); b = np.r_[2.0, 2.0, 2.0, 0.0, 0.0, 0.0]; "
            "print(*cube_kernel.box_volume_and_vertex_count(A, b))")
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, env=env)
    assert run.returncode == 0, run.stderr
    volume, n_vertices = run.stdout.split()
    assert float(volume) == pytest.approx(8.0) and int(n_vertices) == 8
