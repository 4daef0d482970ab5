"""The player libraries the page loads (hls.js, Shaka Player): npm packages pinned in package.json/package-lock.json,
installed by ``npm ci`` and served from node_modules, so the page works offline and never touches a CDN."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from workers.preview.errors import LibrariesMissing

# URL name under /_vodfleet/lib/ → file inside node_modules (the packages' own browser builds).
LIBRARIES: Mapping[str, PurePosixPath] = {
    "hls.js": PurePosixPath("hls.js/dist/hls.min.js"),
    "shaka-player.js": PurePosixPath("shaka-player/dist/shaka-player.compiled.js"),
}
ENV_VAR = "VODFLEET_NODE_MODULES"
# workers/preview/library.py → the checkout's root, where package.json and node_modules live.
CHECKOUT = Path(__file__).resolve().parents[2]


def candidate_dirs(explicit: Path | None, environ: Mapping[str, str], checkout: Path, cwd: Path) -> list[Path]:
    """Where node_modules may be, in order: --node-modules, $VODFLEET_NODE_MODULES, the checkout, the cwd (pure)."""
    if explicit is not None:
        return [explicit]
    if environ.get(ENV_VAR):
        return [Path(environ[ENV_VAR])]
    dirs = [checkout / "node_modules"]
    if cwd / "node_modules" not in dirs:
        dirs.append(cwd / "node_modules")
    return dirs


def find_libraries(explicit: Path | None = None) -> dict[str, Path]:
    """URL name → installed file, from the first node_modules that has every library."""
    dirs = candidate_dirs(explicit, os.environ, CHECKOUT, Path.cwd())
    for folder in dirs:
        files = {name: folder.joinpath(*rel.parts) for name, rel in LIBRARIES.items()}
        if all(path.is_file() for path in files.values()):
            return {name: path.resolve() for name, path in files.items()}
    wanted = ", ".join(str(rel) for rel in LIBRARIES.values())
    looked = ", ".join(str(d) for d in dirs)
    raise LibrariesMissing(
        f"the player libraries are not installed (looked for {wanted} in {looked})",
        hint=f"run `npm ci` in the vodfleet checkout ({CHECKOUT}), or point --node-modules / {ENV_VAR} "
             "at a node_modules folder that has hls.js and shaka-player")
