"""The Stage-1 bottleneck really blocks the image, on every tiny backbone of the real architectures."""

import pytest
import torch
from PIL import Image

from livr.data.schema import Record
from livr.model.backbones import REGISTRY, get_backbone
from livr.model.inputs import Collator, encode, latent_token_strings
from livr.model.latents import add_latent_tokens
from livr.model.loading import load_backbone
from livr.model.masks import ANSWER, IMAGE, LATENT, POST, allowed_attention
from livr.verify import answer_predictor

PREDICTOR = "predictor"  # the position whose logits predict the first answer token (labels are shifted)

TINY = [n for n, b in REGISTRY.items() if b.tiny]


def two_image_record():
    return Record(
        id="x",
        task="visual_correspondence",
        split="test",
        images=["a.png", "b.png"],
        question="Which point corresponds to REF?\nSelect from the following choices.\n(A) A\n(B) B\n(C) C\n(D) D",
        choices=["A", "B", "C", "D"],
        answer="C",
        source="test",
    )


def images(seed):
    g = torch.Generator().manual_seed(seed)
    return [Image.fromarray((torch.rand(112, 112, 3, generator=g) * 255).byte().numpy()) for _ in range(2)]


@pytest.fixture(scope="module", params=TINY)
def setup(request, tiny_models_dir):
    name = request.param
    model, processor = load_backbone(name, tiny_models_dir, {}, torch.float32, "sdpa", "cpu")
    add_latent_tokens(model, processor, 4, seed=0)
    spec = get_backbone(name)
    enc = encode(two_image_record(), images(0), processor, spec, latent_token_strings(4))
    return model.eval(), processor, spec, enc


def forward(model, batch, pixel_values):
    return model(**{**batch, "pixel_values": pixel_values}).logits[0]


def test_roles_cover_the_sequence(setup):
    _, _, _, enc = setup
    roles = torch.tensor(enc.roles)
    assert (roles == IMAGE).sum() > 0 and (roles == LATENT).sum() == 4 and (roles == ANSWER).sum() >= 2
    first_image = int((roles == IMAGE).nonzero()[0])
    # every non-image, non-latent token after the first image is POST or ANSWER
    after = roles[first_image:]
    assert set(after.tolist()) <= {IMAGE, LATENT, POST, ANSWER}


def perturbation_effect(model, processor, spec, enc, variant):
    """(logits before, logits after a pixel perturbation, d(sum of logits)/d pixels per role) under `variant`."""
    batch, roles = Collator(model, processor.tokenizer.pad_token_id, spec, variant).collate([enc])
    roles = roles[0]
    pv = batch["pixel_values"]
    perturbed = (pv + torch.randn_like(pv)).requires_grad_(True)
    with torch.no_grad():
        base = forward(model, batch, pv)
    moved = forward(model, batch, perturbed)
    grads = {}
    for role in (POST, LATENT, ANSWER, PREDICTOR):
        sel = answer_predictor(roles) if role == PREDICTOR else roles == role
        if sel.any():
            (grads[role],) = torch.autograd.grad(moved[sel].sum(), perturbed, retain_graph=True)
    return base, moved.detach(), grads, roles


@pytest.mark.parametrize("variant", ["default", "default_plus_latent_prompt_block"])
def test_bottleneck_blocks_image_exactly(setup, variant):
    """The image reaches the answer only through the latents.

    Without latents, no answer or post-image prompt logit moves when the pixels do, and their
    gradient w.r.t. the pixels is exactly zero. With latents, the post-image prompt still cannot
    see the image, the latents do, and the answer changes (through them alone: the same run
    without latents proves the direct path is closed).
    """
    model, processor, spec, enc = setup
    no_latents = encode(two_image_record(), images(0), processor, spec, [])
    base, moved, grads, roles = perturbation_effect(model, processor, spec, no_latents, variant)
    blocked = (roles == POST) | (roles == ANSWER)
    assert torch.equal(base[blocked], moved[blocked]), "a blocked position saw the image"
    assert torch.count_nonzero(grads[POST]) == 0 and torch.count_nonzero(grads[ANSWER]) == 0
    # the first answer token (the letter) is predicted at the last prompt position: blind too
    predictor = answer_predictor(roles)
    assert roles[predictor].item() == POST and torch.equal(base[predictor], moved[predictor])
    assert torch.count_nonzero(grads[PREDICTOR]) == 0

    base, moved, grads, roles = perturbation_effect(model, processor, spec, enc, variant)
    post = roles == POST
    assert torch.equal(base[post], moved[post])
    assert torch.count_nonzero(grads[POST]) == 0
    assert not torch.allclose(base[roles == LATENT], moved[roles == LATENT]), "latents must see the image"
    assert torch.count_nonzero(grads[LATENT]) > 0
    assert not torch.allclose(base[roles == ANSWER], moved[roles == ANSWER]), (
        "the answer sees the image through the latents"
    )
    # with latents after the prompt, the first answer token is predicted at the last latent, which sees the image
    predictor = answer_predictor(roles)
    assert roles[predictor].item() == LATENT and int(predictor.nonzero()) == int((roles == LATENT).nonzero()[-1])
    assert not torch.allclose(base[predictor], moved[predictor]) and torch.count_nonzero(grads[PREDICTOR]) > 0


@pytest.mark.parametrize("variant", [None, "answer_only"])
def test_image_reaches_answer_without_the_full_bottleneck(setup, variant):
    """Standard mask: the answer sees the image. `answer_only`: the image leaks through the
    post-image prompt, which is why the paper's mask cuts every post-image token off."""
    model, processor, spec, enc = setup
    batch, roles = Collator(model, processor.tokenizer.pad_token_id, spec, variant).collate([enc])
    with torch.no_grad():
        base = forward(model, batch, batch["pixel_values"])
        moved = forward(model, batch, batch["pixel_values"] + 1.0)
    answer = roles[0] == ANSWER
    assert not torch.allclose(base[answer], moved[answer])


def test_causal_4d_mask_reproduces_the_2d_forward(setup):
    """A plain causal 4D mask with explicit position ids equals the model's own 2D path, with padding."""
    model, processor, spec, enc = setup
    short = encode(
        two_image_record().__class__(**{**two_image_record().__dict__, "question": "Which?", "answer": "A"}),
        images(1),
        processor,
        spec,
        latent_token_strings(4),
    )
    pad = processor.tokenizer.pad_token_id
    b2d, roles = Collator(model, pad, spec, None).collate([enc, short])
    real = roles != -1
    with torch.no_grad():
        ref = model(**{k: v for k, v in b2d.items() if k != "position_ids"}).logits
        explicit = model(**b2d).logits
        from livr.model.masks import attention_mask_4d

        b4d = {**b2d, "attention_mask": attention_mask_4d(roles, None, torch.float32)}
        out4d = model(**b4d).logits
    torch.testing.assert_close(explicit[real], ref[real], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(out4d[real], ref[real], atol=1e-5, rtol=1e-4)


def test_latent_prompt_block_mask_structure():
    from livr.model.masks import PAD, TEXT

    roles = torch.tensor([[TEXT, IMAGE, IMAGE, POST, LATENT, LATENT, ANSWER, PAD]])
    allowed = allowed_attention(roles, "default_plus_latent_prompt_block")[0]
    assert allowed[4, 1] and allowed[4, 2] and not allowed[4, 0] and not allowed[4, 3]  # latent: image yes, text no
    assert allowed[5, 4]  # latents see earlier latents
    assert not allowed[6, 1] and allowed[6, 4] and allowed[6, 3]  # answer: no image, latents and prompt yes
    assert not allowed[3, 1]  # post-image prompt cut off from the image
    assert not allowed[:, 7].any()  # nobody attends to padding
    with pytest.raises(ValueError, match="valid"):
        allowed_attention(roles, "nope")


def test_verify_bottleneck_reports_the_first_answer_token_predictor(tiny_models_dir, tmp_path, capsys):
    """`livr verify-bottleneck` checks and reports the label-aligned position too, and writes its JSON."""
    import json

    from livr.cli import main as cli

    out = tmp_path / "verify.json"
    assert (
        cli(
            [
                "verify-bottleneck",
                "--backbone",
                "tiny-qwen2.5-vl",
                "--models-dir",
                str(tiny_models_dir),
                "--k",
                "4",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "PASS  first answer token's predictor (the last latent) sees the image" in printed
    assert "answer_predictor" in printed and "PASSED" in printed
    report = json.loads(out.read_text())
    assert report["passed"] and all(report["checks"].values())
    assert report["without_latents"]["answer_predictor"] == {"max_logit_change": 0.0, "nonzero_pixel_grads": 0}
    assert report["with_latents"]["answer_predictor"]["max_logit_change"] > 0
