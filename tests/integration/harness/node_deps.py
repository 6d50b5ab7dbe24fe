"""node_modules for the Node.js test directories, installed from their committed package-lock.json.

An existing node_modules counts as installed only when every package the lock file lists is there
at the locked version: a checkout whose lock file gained a package (or moved one to another
version) since the last install gets `npm ci` again instead of failing on a missing module.

Used by the tests (ensure()) and by scripts/deps.sh test (`python3 node_deps.py DIR...`)."""
import json
import os
import subprocess
import sys


def missing(node_dir):
    """The lock file's packages not installed at their locked version, as 'path@version'."""
    with open(os.path.join(node_dir, "package-lock.json")) as f:
        lock = json.load(f)
    out = []
    for path, meta in lock.get("packages", {}).items():
        # "" is the project itself; links and optional packages for other platforms are not
        # installed as directories of their own.
        if not path or meta.get("link") or meta.get("optional"):
            continue
        try:
            with open(os.path.join(node_dir, path, "package.json")) as f:
                version = json.load(f).get("version")
        except (OSError, ValueError):
            version = None
        if version != meta.get("version"):
            out.append("%s@%s" % (path[len("node_modules/"):], meta.get("version")))
    return out


def ensure(node_dir, timeout=300):
    """Runs `npm ci` in node_dir unless everything its lock file lists is installed.
    Returns None when nothing was missing, else the npm run (raises if npm failed)."""
    if not missing(node_dir):
        return None
    env = dict(os.environ, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1")
    r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=node_dir, env=env,
                       capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError("npm ci in %s failed:\n%s\n%s" % (node_dir, r.stdout, r.stderr))
    left = missing(node_dir)
    if left:
        raise RuntimeError("npm ci in %s left packages missing: %s" % (node_dir, ", ".join(left)))
    return r


if __name__ == "__main__":
    for d in sys.argv[1:]:
        gone = missing(d)
        if gone:
            print("installing node modules in %s (missing: %s)" % (d, ", ".join(gone)))
            ensure(d)
