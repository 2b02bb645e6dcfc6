"""Every field of every settings class is documented where it is declared."""

import dataclasses

import pytest

from livr import settings

SETTINGS_CLASSES = [
    c
    for c in vars(settings).values()
    if isinstance(c, type) and dataclasses.is_dataclass(c) and c.__module__ == settings.__name__
]


def test_the_settings_classes_are_found():
    assert {"Training", "TrainConfig", "Stage", "EvalConfig"} <= {c.__name__ for c in SETTINGS_CLASSES}


@pytest.mark.parametrize("cls", SETTINGS_CLASSES, ids=lambda c: c.__name__)
def test_every_field_has_a_help_text(cls):
    undocumented = [
        f.name
        for f in dataclasses.fields(cls)
        if not isinstance(f.metadata.get("help"), str) or not f.metadata["help"].strip()
    ]
    assert not undocumented, f"{cls.__name__}: fields without metadata['help']: {undocumented}"
