"""A git server for the lab: the demo app as a repository the hosts deploy from.

At ``up`` the app in ``examples/acoustic-lab`` becomes the first commit of a bare repository
under the lab's run folder, served read-only by ``git daemon`` on the bridge address, the way a
fleet deploys from its company's git server. Tests push further commits to roll out.
"""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from labkit import cgroups, paths
from labkit.util import LabError, run

GIT_DIR = paths.RUN / "git"
REPO_NAME = "acoustic-lab.git"
BRANCH = "main"
PORT = 9418
APP_SOURCE = paths.REPO / "examples" / "acoustic-lab"
# Commits made by the lab carry this identity and a fixed clock-free message.
IDENTITY = {
    "GIT_AUTHOR_NAME": "wsp lab",
    "GIT_AUTHOR_EMAIL": "lab@wsp.invalid",
    "GIT_COMMITTER_NAME": "wsp lab",
    "GIT_COMMITTER_EMAIL": "lab@wsp.invalid",
}


def repo_url():
    return f"git://{paths.GATEWAY}/{REPO_NAME}"


def bare_repo():
    return GIT_DIR / REPO_NAME


def _git(*args, cwd):
    return run(["git", *args], cwd=cwd, env={**os.environ, **IDENTITY})


def commit_tree(source, message):
    """Commit the files of ``source`` (a folder) as the new head of the lab's branch; return
    the commit's hash."""
    work = Path(tempfile.mkdtemp(prefix="git-", dir=paths.RUN))
    try:
        _git("clone", "--quiet", str(bare_repo()), str(work / "tree"), cwd=paths.RUN)
        tree = work / "tree"
        for entry in tree.iterdir():
            if entry.name != ".git":
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        shutil.copytree(
            source, tree, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
        _git("checkout", "--quiet", "-B", BRANCH, cwd=tree)
        _git("add", "--all", cwd=tree)
        _git("commit", "--quiet", "--allow-empty", "-m", message, cwd=tree)
        _git("push", "--quiet", "origin", f"HEAD:refs/heads/{BRANCH}", cwd=tree)
        return _git("rev-parse", "HEAD", cwd=tree).stdout.strip()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def start():
    """Make the repository from the demo app and serve it; return its URL."""
    if shutil.which("git") is None:
        raise LabError("missing tool: git; run 'make deps'")
    GIT_DIR.mkdir(parents=True, exist_ok=True)
    run(["git", "init", "--quiet", "--bare", "--initial-branch", BRANCH, str(bare_repo())])
    commit_tree(APP_SOURCE, "acoustic-lab as the lab found it")
    with open(paths.RUN / "git-daemon.log", "ab") as log:
        subprocess.Popen(
            [
                "git",
                "daemon",
                "--reuseaddr",
                "--export-all",
                f"--base-path={GIT_DIR}",
                f"--listen={paths.GATEWAY}",
                f"--port={PORT}",
                str(GIT_DIR),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=lambda: cgroups.enter("git"),
        )
    return repo_url()
