import os

import pytest

os.environ.setdefault("LIVR_PROGRESS", "0")


@pytest.fixture(scope="session")
def tiny_models_dir(tmp_path_factory):
    """Every tiny backbone built once per test session, as `livr build-tiny` writes them."""
    from livr.model.backbones import REGISTRY
    from livr.model.tiny import save_tiny

    root = tmp_path_factory.mktemp("models")
    for name, spec in REGISTRY.items():
        if spec.tiny:
            save_tiny(name, root / name)
    return root
