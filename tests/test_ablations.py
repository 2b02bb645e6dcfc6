"""The ablations and controls are what the paper defines (v2 text): the roles and attention masks
each method's resolved settings produce on every tiny backbone, and the recipes params.yaml refuses."""

from __future__ import annotations

import copy

import pytest
import torch
from PIL import Image

from livr import config as lc
from livr.data.schema import Record
from livr.model.backbones import REGISTRY, get_backbone
from livr.model.inputs import encode, latent_token_strings
from livr.model.latents import add_latent_tokens
from livr.model.loading import load_backbone
from livr.model.masks import ANSWER, IMAGE, LATENT, POST, TEXT, allowed_attention
from livr.settings import TrainConfig

TINY = [n for n, b in REGISTRY.items() if b.tiny]
PARAMS = lc.load_params("params.yaml")
K = 16  # params.yaml training.num_latents: the ablations run the paper's K


def record():
    return Record(
        id="r",
        task="semantic_correspondence",
        split="test",
        images=["a.png", "b.png"],
        question="Which point matches REF?\n(A) A\n(B) B\n(C) C\n(D) D",
        choices=list("ABCD"),
        answer="B",
        source="test",
    )


def images():
    return [Image.new("RGB", (112, 112), (200, 40 * i, 90)) for i in range(2)]


@pytest.fixture(scope="module", params=TINY)
def tiny(request, tiny_models_dir):
    model, processor = load_backbone(request.param, tiny_models_dir, {}, torch.float32, "sdpa", "cpu")
    add_latent_tokens(model, processor, K, seed=0)
    return processor, get_backbone(request.param)


def encoded_as(method: str, processor, spec):
    """(roles, Stage-1 mask or None, cfg) of one example as `livr train` encodes it for `method`."""
    cfg = TrainConfig.resolve(PARAMS, "ablations", "qwen3-vl-4b", "semantic_correspondence", method)
    latents = (
        latent_token_strings(cfg.distinct_latents) * (cfg.num_latents // cfg.distinct_latents)
        if cfg.uses_latents
        else []
    )
    enc = encode(record(), images() * cfg.image_copies, processor, spec, latents, cfg.latent_position)
    stages = cfg.stages()
    return torch.tensor(enc.roles), (stages[0].mask if stages[0].name == "stage1" else None), cfg, enc


def positions(roles, *kinds):
    return [i for i, r in enumerate(roles.tolist()) if r in kinds]


def sees_every_earlier(allowed, queries, keys) -> bool:
    """Each query may attend to every key before it (the plain causal mask on those keys)."""
    return all(bool(allowed[q, [k for k in keys if k < q]].all()) for q in queries)


def test_latents_before_the_prompt_come_after_the_images_and_before_the_question(tiny):
    processor, spec = tiny
    roles, mask, cfg, enc = encoded_as("livr_latents_before_prompt", processor, spec)
    assert cfg.latent_position == "before_question" and mask == "default"
    image, latent, post, answer = (positions(roles, r) for r in (IMAGE, LATENT, POST, ANSWER))
    assert len(latent) == K and latent == list(range(latent[0], latent[0] + K))  # one contiguous run
    assert max(image) < latent[0], "the latents come after every image token"
    question = [i for i in post if i > latent[-1]]
    decoded = processor.tokenizer.decode([enc.input_ids[i] for i in question])
    assert decoded.startswith("Which point matches REF?"), "the question follows the latents directly"
    allowed = allowed_attention(roles[None], mask)[0]
    # Stage 1: latents see every image token and cannot see the question (it comes after them);
    # the question and the answer see the latents and no image token.
    assert allowed[latent][:, image].all()
    assert not allowed[latent][:, question].any()
    assert not allowed[question + answer][:, image].any()
    assert allowed[question + answer][:, latent].all()
    # the first answer token is predicted from the last question-side token, not from a latent
    assert roles[answer[0] - 1] == POST


def test_paper_latents_follow_the_whole_prompt(tiny):
    processor, spec = tiny
    roles, mask, cfg, _ = encoded_as("livr", processor, spec)
    latent, answer, post = positions(roles, LATENT), positions(roles, ANSWER), positions(roles, POST)
    assert max(post) < latent[0] and latent[-1] == answer[0] - 1, (
        "latents after the prompt; the last one predicts the answer"
    )
    allowed = allowed_attention(roles[None], mask)[0]
    assert allowed[latent][:, post].all(), "LIVR's latents see the question"


def test_mask_only_control_cuts_the_answer_off_and_lets_the_prompt_see_the_image(tiny):
    processor, spec = tiny
    roles, mask, cfg, _ = encoded_as("livr_mask_only", processor, spec)
    assert not cfg.uses_latents and mask == "answer_only" and [s.name for s in cfg.stages()] == ["stage1", "stage2"]
    assert not positions(roles, LATENT)
    image, post, answer = positions(roles, IMAGE), positions(roles, POST), positions(roles, ANSWER)
    allowed = allowed_attention(roles[None], mask)[0]
    assert not allowed[answer][:, image].any(), "the answer never attends to the image in Stage 1"
    assert sees_every_earlier(allowed, post, image), "prompt tokens can still see the image (the paper's wording)"
    assert allowed[answer][:, post].all()


@pytest.mark.parametrize("method,stage1", [("sft_image_x2", None), ("livr_image_x2_mask", "answer_only")])
def test_image_x2_gives_every_image_twice(tiny, method, stage1):
    processor, spec = tiny
    once = encode(record(), images(), processor, spec, [])
    roles, mask, cfg, enc = encoded_as(method, processor, spec)
    assert cfg.image_copies == 2 and not cfg.uses_latents and mask == stage1
    assert positions(roles, IMAGE) and len(positions(roles, IMAGE)) == 2 * once.roles.count(IMAGE)
    assert enc.labels[-2:] == once.labels[-2:]
    if mask:
        allowed = allowed_attention(roles[None], mask)[0]
        assert not allowed[positions(roles, ANSWER)][:, positions(roles, IMAGE)].any(), "both copies cut off"
        assert sees_every_earlier(allowed, positions(roles, POST), positions(roles, IMAGE))


def test_prompt_tuning_puts_its_soft_prompt_first_and_trains_no_stage_1(tiny):
    processor, spec = tiny
    roles, mask, cfg, _ = encoded_as("prompt_tuning", processor, spec)
    assert cfg.finetune == "prompt" and mask is None and [s.name for s in cfg.stages()] == ["stage2"]
    assert positions(roles, LATENT) == list(range(K)), "K soft tokens before everything"
    assert roles[K] == TEXT or roles[K] == IMAGE


def test_shared_latent_is_one_token_at_every_latent_position(tiny):
    processor, spec = tiny
    roles, mask, cfg, enc = encoded_as("livr_shared_latent", processor, spec)
    assert cfg.distinct_latents == 1 and cfg.num_latents == K
    ids = {enc.input_ids[i] for i in positions(roles, LATENT)}
    assert len(positions(roles, LATENT)) == K and len(ids) == 1


def _with(mutate):
    params = copy.deepcopy(PARAMS)
    mutate(params)
    return params


@pytest.mark.parametrize(
    "override,needles",
    [
        ({"livr_stage_epochs": [10, 0]}, ["Stage 2 (standard mask) needs more than 0 epochs", "[10, 0]"]),
        ({"use_latents": False}, ["use_latents: false with mask 'default'", "mask: answer_only"]),
        ({"latent_position": "start"}, ["latent_position 'start'", "livr_stage_epochs [0, N]"]),
    ],
)
def test_recipes_that_would_train_something_else_are_refused(override, needles):
    params = _with(lambda p: p["methods"]["livr_k4"].update(override))
    with pytest.raises(lc.ConfigError) as err:
        lc.validate_params(params)
    for needle in ["experiments.ablations: method 'livr_k4'", *needles]:
        assert needle in str(err.value)


@pytest.mark.parametrize(
    "override,needle",
    [
        ({"train": "sft", "finetune": "prompt"}, "finetune: prompt trains only the latent"),
        ({"train": "sft", "shared_latent": True}, "shared_latent: true needs latent tokens"),
    ],
)
def test_latent_options_without_latents_are_refused(override, needle):
    params = _with(lambda p: p["methods"]["sft_image_x2"].update(override))
    with pytest.raises(lc.ConfigError, match=needle):
        lc.validate_params(params)


def test_ablations_experiment_has_every_control_and_test_time_variant():
    methods = set(PARAMS["experiments"]["ablations"]["methods"])
    assert {
        "zero_shot",
        "livr_mask_only",
        "sft_image_x2",
        "livr_image_x2_mask",
        "prompt_tuning",
        "livr_shared_latent",
        "livr_latents_before_prompt",
    } <= methods
    for model in ("livr", "livr_split_0_10"):
        variants = {
            (PARAMS["methods"][m].get("eval_latents", True), PARAMS["methods"][m].get("eval_mask", "standard"))
            for m in methods
            if PARAMS["methods"][m].get("checkpoint_of") == model
        }
        assert variants == {(False, "standard"), (True, "bottleneck"), (False, "bottleneck")}, model
