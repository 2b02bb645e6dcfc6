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


@pytest.fixture(scope="session")
def task_dir(tmp_path_factory):
    """A small synthetic relative-reflectance task (16 train / 8 val / 8 test) for training tests."""
    from livr.data.synthetic import build_synthetic_task

    d = tmp_path_factory.mktemp("data") / "relative_reflectance"
    build_synthetic_task("relative_reflectance", d, n_train=16, n_val=8, n_test=8, seed=0)
    return d
