import subprocess
import sys

import pytest

from geomcore.__main__ import main


@pytest.mark.parametrize("example, ndim, volume", [
    ("cube", 4, 1.0), ("simplex", 5, 1 / 120), ("cross", 5, 32 / 120), ("pyramid", 6, 32 / 6),
])
def test_demo_prints_closed_form_volume(capsys, example, ndim, volume):
    assert main(["demo", "--example", example, "--ndim", str(ndim)]) == 0
    out = capsys.readouterr().out
    line = next(l for l in out.splitlines() if l.strip().startswith("volume"))
    assert float(line.split()[1]) == pytest.approx(volume, rel=1e-12)
    assert "relative error" in line


def test_demo_relu_cell(capsys):
    assert main(["demo", "--example", "relu-cell", "--ndim", "4"]) == 0
    assert "ReLU-like cell" in capsys.readouterr().out


def test_demo_rejects_bad_ndim(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--ndim", "0"])
    assert "--ndim must be at least" in capsys.readouterr().err


def test_python_dash_m_runs(tmp_path):
    # run away from a source checkout so the installed package is the one imported
    out = subprocess.run([sys.executable, "-m", "geomcore", "demo"], capture_output=True,
                         text=True, cwd=tmp_path)
    assert out.returncode == 0 and "square pyramid" in out.stdout
