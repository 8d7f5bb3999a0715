"""A copy of the repository's start script beside a `.venv` that is this interpreter's
environment seen through a `.pth` file: `scripts/start.sh` runs for real, against an
install that is already there, without a pip install of its own."""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def overlay_repo(tmp: Path, *, stamped: bool = True) -> Path:
    """A folder with scripts/start.sh, pyproject.toml and a `.venv` whose site-packages
    reach this environment's; `stamped`: the install stamp says it is current."""
    root = tmp / "repo"
    (root / "scripts").mkdir(parents=True)
    shutil.copy2(REPO / "scripts" / "start.sh", root / "scripts" / "start.sh")
    shutil.copy2(REPO / "pyproject.toml", root / "pyproject.toml")
    venv = root / ".venv"
    bindir = venv / "bin"
    bindir.mkdir(parents=True)
    real = Path(os.path.realpath(sys.executable))
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    (venv / "pyvenv.cfg").write_text(
        f"home = {real.parent}\ninclude-system-site-packages = false\nversion = {version}\n"
    )
    (bindir / "python").symlink_to(real)
    site = venv / "lib" / f"python{version}" / "site-packages"
    site.mkdir(parents=True)
    purelib = sysconfig.get_paths()["purelib"]
    (site / "outer-env.pth").write_text(f"import site; site.addsitedir({purelib!r})\n")
    script = bindir / "promptyard"
    script.write_text(
        "#!/bin/sh\n"
        f'exec "{bindir / "python"}" -c "import sys; from promptyard.cli import main; '
        'sys.argv[0] = \'promptyard\'; main()" "$@"\n'
    )
    script.chmod(0o755)
    if stamped:  # as start.sh computes it: pyproject.toml and the interpreter's version
        digest = hashlib.sha256((root / "pyproject.toml").read_bytes() + sys.version.encode())
        (venv / ".promptyard-install").write_text(digest.hexdigest() + "\n")
    return root
