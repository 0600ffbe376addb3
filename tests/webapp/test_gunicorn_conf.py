"""gunicorn.conf.py clears PROMETHEUS_MULTIPROC_DIR at start: only a directory of our own, never another's files."""

from __future__ import annotations

import runpy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


@pytest.fixture
def start(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], None]:
    """Run gunicorn.conf.py's start-up hook as gunicorn's master would, with the directory named."""
    def run(directory: Path) -> None:
        monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
        conf: dict[str, Any] = runpy.run_path(str(CONF))
        conf["on_starting"](None)

    return run


def test_a_directory_holding_someone_elses_files_is_refused_and_left_alone(
    start: Callable[[Path], None], tmp_path: Path
) -> None:
    (tmp_path / "precious.txt").write_text("keep me")

    with pytest.raises(SystemExit, match="PROMETHEUS_MULTIPROC_DIR"):
        start(tmp_path)
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_a_file_or_a_symlink_is_refused(start: Callable[[Path], None], tmp_path: Path) -> None:
    file = tmp_path / "a-file"
    file.write_text("x")
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (tmp_path / "elsewhere").mkdir()

    for refused in (file, link):
        with pytest.raises(SystemExit, match="not a directory of our own"):
            start(refused)
    assert file.read_text() == "x"


def test_a_new_directory_is_made_ours_and_a_later_start_clears_only_its_metric_files(
    start: Callable[[Path], None], tmp_path: Path
) -> None:
    metrics = tmp_path / "metrics"
    start(metrics)
    (metrics / "counter_123.db").write_bytes(b"old counts")
    (metrics / "notes").write_text("not a metric file")

    start(metrics)

    assert not (metrics / "counter_123.db").exists()
    assert (metrics / "notes").read_text() == "not a metric file"


def test_an_empty_directory_is_accepted(start: Callable[[Path], None], tmp_path: Path) -> None:
    start(tmp_path)

    assert (tmp_path / ".switchboard-metrics").exists()
