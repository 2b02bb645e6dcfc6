"""The same checks on every registered backbone family (livr/model/families/), and no import circles."""

import ast
import graphlib
from pathlib import Path

import pytest
import torch

from livr.model.backbones import REGISTRY
from livr.model.families import FAMILIES, get_family
from livr.model.family import PLACEHOLDER_TOKENS
from livr.model.loading import load_backbone
from livr.model.real_configs import load_real_config

TINY = {b.family: name for name, b in REGISTRY.items() if b.tiny and not b.pretrained}


def test_every_backbone_names_a_registered_family_and_every_family_has_a_tiny_build():
    assert {b.family for b in REGISTRY.values()} == set(FAMILIES) == set(TINY)
    assert all(name == family.name for name, family in FAMILIES.items())
    with pytest.raises(ValueError, match="unknown backbone family 'nope'; families: qwen2_5_vl"):
        get_family("nope")


@pytest.fixture(scope="module", params=sorted(TINY))
def tiny(request, tiny_models_dir):
    family = FAMILIES[request.param]
    model, processor = load_backbone(TINY[request.param], tiny_models_dir, {}, torch.float32, "sdpa", "cpu")
    return family, model, processor


def test_the_tiny_build_is_the_familys_class_with_its_facts(tiny):
    family, model, processor = tiny
    config_cls, model_cls = family.classes()
    assert type(model) is model_cls and type(model.config) is config_cls
    tok = processor.tokenizer
    assert isinstance(processor, family.processor_class())
    for key, token in PLACEHOLDER_TOKENS.items():
        assert getattr(model.config, key) == tok.convert_tokens_to_ids(token)
    assert processor.image_processor.temporal_patch_size == family.temporal_patch_size
    assert getattr(model.config.vision_config, "temporal_patch_size", 1) == family.temporal_patch_size
    assert tok.convert_tokens_to_ids(family.image_token) == model.config.image_token_id
    assert tok.convert_tokens_to_ids(family.end_of_turn) == tok.eos_token_id
    text = processor.apply_chat_template(
        [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Q?"}]}],
        add_generation_prompt=True,
        tokenize=False,
    )
    assert text.startswith("<|im_start|>system\n") == family.system_prompt
    assert hasattr(model.model, "get_rope_index") or not family.mrope


@pytest.mark.parametrize("name", [n for n, b in REGISTRY.items() if not b.tiny])
def test_the_family_facts_match_each_real_backbones_published_config(name):
    cfg = load_real_config(name)
    family = REGISTRY[name].adapter
    assert cfg["image_processor"]["temporal_patch_size"] == family.temporal_patch_size
    assert cfg["image_processor"]["processor_class"] == family.processor_class().__name__
    assert ("You are a helpful assistant." in cfg["chat_template"]) == family.system_prompt


def test_the_package_has_no_import_circle():
    """Function-level imports included: a circle there is a circle in the design, imported late."""
    root = Path(__file__).resolve().parents[2] / "livr"
    modules = {
        ".".join(p.relative_to(root.parent).with_suffix("").parts).removesuffix(".__init__"): p
        for p in root.rglob("*.py")
    }
    graph = {}
    for name, path in modules.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                deps |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                deps |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
        graph[name] = {d for d in deps if d in modules and d != name}
    graphlib.TopologicalSorter(graph).prepare()  # raises CycleError naming the circle
