"""Install a tiny plugin distribution into a folder, as `pip install --target` would lay it out."""

from __future__ import annotations

from pathlib import Path


def install_distribution(
    site: Path, *, module: str, code: str, name: str, version: str, entry_points: str
) -> Path:
    """Write package `module` (its `__init__.py` is `code`) and its `.dist-info` into `site`.

    `entry_points` is the text of `entry_points.txt`. Put `site` on sys.path to install it.
    Returns the `.dist-info` folder.
    """
    package = site / module
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(code)
    info = site / f"{module}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(entry_points)
    return info
