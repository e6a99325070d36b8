"""A run records the commit it was run from: in a plain checkout, in a worktree (whose .git is a
file naming its git folder) and when the branch's commit is only in packed-refs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from sim import REPO_ROOT
from sim.outputs.folders import git_commit

SHA = "0123456789abcdef0123456789abcdef01234567"


def _repo(root: Path, packed: bool) -> Path:
    git = root / "main" / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    if packed:
        (git / "packed-refs").write_text(f"# pack-refs with: peeled\n{SHA} refs/heads/main\n")
    else:
        (git / "refs" / "heads" / "main").write_text(SHA + "\n")
    return git


@pytest.mark.parametrize("packed", [False, True])
def test_a_checkout_and_a_worktree_record_their_commit(tmp_path, packed):
    git = _repo(tmp_path, packed)
    assert git_commit(git.parent) == SHA
    # a worktree: .git is a file; its own HEAD names a branch kept in the main repository
    wt_git = git / "worktrees" / "wt"
    wt_git.mkdir(parents=True)
    (wt_git / "HEAD").write_text("ref: refs/heads/main\n")
    (wt_git / "commondir").write_text("../..\n")
    wt = tmp_path / "wt"
    wt.mkdir()
    (wt / ".git").write_text(f"gitdir: {wt_git}\n")
    assert git_commit(wt) == SHA


def test_no_checkout_records_no_commit(tmp_path):
    assert git_commit(tmp_path) == ""


def test_this_checkout_records_what_git_says():
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout, or no git")
    assert git_commit() == head
