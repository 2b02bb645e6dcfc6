"""LVR's and Mirage's objectives: box -> tokens, teacher forcing, losses by hand, the Stage-2 rollout."""

import math

import pytest
import torch
from PIL import Image

from livr.data.schema import Record
from livr.model.backbones import get_backbone
from livr.model.inputs import IGNORE
from livr.model.latents import add_tokens
from livr.model.loading import load_backbone
from livr.model.recon_inputs import ReconCollator, encode_recon
from livr.model.reconstruction import (
    FinalHidden,
    LatentRows,
    box_token_indices,
    chunk_means,
    lvr_loss,
    mirage_stage1_loss,
    predictions_of,
    roll_out_latents,
    special_tokens,
    teacher_force,
)

BACKBONE = "tiny-qwen2.5-vl"


def test_box_tokens_square_grid_by_hand():
    # 8 x 8 patches -> 4 x 4 merged. x: 0.3*8 = 2.4 -> floor 2 -> merged 1; 0.6*8 = 4.8 -> ceil 5 -> (5+1)//2 = 3.
    # y: 0.1*8 = 0.8 -> 0 -> 0; 0.4*8 = 3.2 -> 4 -> (4+1)//2 = 2. Merged rows 0..1, columns 1..2.
    assert box_token_indices([0.3, 0.1, 0.6, 0.4], 8, 8) == [1, 2, 5, 6]


def test_box_tokens_non_square_grid_by_hand():
    # 6 rows x 10 columns of patches (a wide resize) -> 3 x 5 merged, row-major with width 5.
    # x: 0.05*10 = 0.5 -> 0 -> 0; 0.45*10 = 4.5 -> 5 -> 3. y: 0.5*6 = 3 -> 3 -> 1; 1.0*6 = 6 -> 6 -> 3.
    assert box_token_indices([0.05, 0.5, 0.45, 1.0], 6, 10) == [5, 6, 7, 10, 11, 12]
    # a tall one: 10 rows x 4 columns -> 5 x 2 merged; the whole image is every token
    assert box_token_indices([0, 0, 1, 1], 10, 4) == list(range(10))
    # a box past the edge is clamped; a degenerate box at the far edge still covers its token
    assert box_token_indices([0.9, 0.9, 1.2, 1.5], 4, 4) == [3]
    assert box_token_indices([1.0, 1.0, 1.0, 1.0], 4, 4) == [3]


def test_chunk_means_by_hand():
    feats = torch.arange(18.0).reshape(9, 2)  # 9 tokens, K = 4: chunks of 2, the last token dropped
    expected = torch.tensor([[1.0, 2.0], [5.0, 6.0], [9.0, 10.0], [13.0, 14.0]])
    assert torch.equal(chunk_means(feats, 4), expected)
    with pytest.raises(ValueError, match="fewer than the 4 latents"):
        chunk_means(feats[:3], 4)


def test_teacher_force_changes_exactly_the_latent_rows():
    g = torch.Generator().manual_seed(0)
    embeds = torch.randn(2, 6, 3, generator=g, requires_grad=True)
    mask = torch.tensor([[0, 0, 1, 1, 0, 0], [0, 1, 0, 0, 0, 1]], dtype=torch.bool)
    targets = torch.randn(4, 3, generator=g)
    out = teacher_force(embeds, mask, targets)
    assert torch.equal(out[mask], targets)  # row-major: (0,2), (0,3), (1,1), (1,5)
    assert torch.equal(out[0, 3], targets[1]) and torch.equal(out[1, 1], targets[2])
    assert torch.equal(out[~mask], embeds[~mask])
    out.sum().backward()  # gradients reach the kept rows only
    assert torch.equal(embeds.grad[~mask], torch.ones_like(embeds.grad[~mask]))
    assert torch.equal(embeds.grad[mask], torch.zeros_like(embeds.grad[mask]))
    with pytest.raises(ValueError, match="4 latent positions but 3 target rows"):
        teacher_force(embeds, mask, targets[:3])


def _hidden_mask_targets():
    g = torch.Generator().manual_seed(1)
    hidden = torch.randn(2, 5, 4, generator=g)
    mask = torch.tensor([[0, 0, 1, 1, 0], [0, 0, 0, 1, 0]], dtype=torch.bool)
    return hidden, mask, torch.randn(3, 4, generator=g)


def test_lvr_loss_by_hand():
    hidden, mask, targets = _hidden_mask_targets()
    ce = torch.tensor(2.0)
    # the hidden states one position before each latent: (0,1), (0,2), (1,2)
    preds = torch.stack([hidden[0, 1], hidden[0, 2], hidden[1, 2]])
    assert torch.equal(predictions_of(hidden, mask), preds)
    mse = sum(((preds[i] - targets[i]) ** 2).sum() for i in range(3)) / 12
    assert math.isclose(float(lvr_loss(ce, hidden, mask, targets, 0.1)), 2.0 + 0.1 * float(mse), rel_tol=1e-6)
    # fp32 whatever the model's precision
    assert lvr_loss(ce, hidden.bfloat16(), mask, targets.bfloat16(), 0.1).dtype == torch.float32


def test_mirage_stage1_loss_by_hand():
    hidden, mask, targets = _hidden_mask_targets()
    preds = [hidden[0, 1], hidden[0, 2], hidden[1, 2]]
    cos = [float(p @ t / (p.norm() * t.norm())) for p, t in zip(preds, targets)]
    expected = 0.1 * 3.0 + (1 - sum(cos) / 3)
    got = mirage_stage1_loss(torch.tensor(3.0), hidden, mask, targets, 0.1)
    assert math.isclose(float(got), expected, rel_tol=1e-6)


def _tiny(models_dir, backbone=BACKBONE):
    model, processor = load_backbone(backbone, models_dir, {}, torch.float32, "sdpa", "cpu")
    add_tokens(model, processor, list(special_tokens("mirage")), seed=0)
    model.eval()
    return model, processor, backbone


@pytest.fixture(scope="module")
def tiny(tiny_models_dir):
    return _tiny(tiny_models_dir)


def _mirage_batch(tiny, tmp_path, questions):
    model, processor, backbone = tiny
    spec = get_backbone(backbone)
    examples = []
    for i, q in enumerate(questions):
        Image.new("RGB", (112, 112), (40 * i, 90, 200)).save(tmp_path / f"q{i}.png")
        Image.new("RGB", (112, 112), (200, 40 * i, 90)).save(tmp_path / f"h{i}.png")
        rec = Record(f"r{i}", "counting", "train", [f"q{i}.png"], q, [], str(i), "test", helper_image=f"h{i}.png")
        with Image.open(tmp_path / f"q{i}.png") as im:
            examples.append(encode_recon(rec, [im.convert("RGB")], tmp_path, processor, spec, "mirage", 4))
    collator = ReconCollator(model, processor.tokenizer.pad_token_id, spec, processor.tokenizer, "mirage")
    return examples, collator(examples)


def test_labels_cover_exactly_the_answer(tiny, tmp_path):
    model, processor, _ = tiny
    examples, batch = _mirage_batch(tiny, tmp_path, ["How many?"])
    ids, labels = examples[0].input_ids, examples[0].labels
    answer = processor.tokenizer("0<|im_end|>", add_special_tokens=False)["input_ids"]
    assert [t for t in labels if t != IGNORE] == answer and labels[-len(answer) :] == answer
    tok = processor.tokenizer
    block = tok.convert_tokens_to_ids(["<|latent_start|>", *["<|latent_pad|>"] * 4, "<|latent_end|>"])
    assert ids[-len(answer) - len(block) : -len(answer)] == block  # the block opens the assistant turn
    assert int(batch["latent_mask"].sum()) == 4 and batch["helper_image_grid_thw"].shape == (1, 3)


def test_latent_rows_hook_replaces_the_pad_rows_of_the_model_input(tiny, tmp_path):
    model, _, _ = tiny
    _, batch = _mirage_batch(tiny, tmp_path, ["How many?"])
    mask = batch.pop("latent_mask")
    inputs = {k: v for k, v in batch.items() if not k.startswith("helper_") and k != "labels"}
    targets = torch.randn(4, model.config.text_config.hidden_size)
    seen = {}
    handle = model.model.language_model.register_forward_pre_hook(
        lambda m, a, kw: seen.update(embeds=kw["inputs_embeds"]), with_kwargs=True
    )
    try:
        with torch.no_grad():
            model(**inputs)
            plain = seen["embeds"]
            with LatentRows(model).replacing(mask, targets), FinalHidden(model).recording() as hidden:
                model(**inputs)
    finally:
        handle.remove()
    assert torch.equal(seen["embeds"][mask], targets)
    assert torch.equal(seen["embeds"][~mask], plain[~mask])  # image features and text rows as without the hook
    assert hidden.value.shape == (*mask.shape, model.config.text_config.hidden_size)


# every family: Qwen3-VL's deepstack and LLaVA-OV-1.5's 1D positions included
@pytest.mark.parametrize("backbone", ["tiny-qwen2.5-vl", "tiny-qwen3-vl", "tiny-llava-ov-1.5"])
def test_rollout_with_and_without_the_cache_agree(backbone, tiny_models_dir, tmp_path):
    tiny = _tiny(tiny_models_dir, backbone)
    model = tiny[0]
    # prompts of different lengths: the rows' latents sit at different positions (right padding)
    _, batch = _mirage_batch(tiny, tmp_path, ["How many?", "How many red squares are in this picture, counted?"])
    mask = batch.pop("latent_mask")
    inputs = {k: v for k, v in batch.items() if not k.startswith("helper_") and k != "labels"}
    starts = [int(row.nonzero()[0]) for row in mask]
    assert starts[0] != starts[1]
    emb = model.get_input_embeddings().weight
    cached = roll_out_latents(model, model, inputs, mask, use_cache=True)
    (grad_cached,) = torch.autograd.grad(cached.sum(), emb)
    plain = roll_out_latents(model, model, inputs, mask, use_cache=False)
    (grad_plain,) = torch.autograd.grad(plain.sum(), emb)
    assert cached.shape == (8, emb.shape[1])
    torch.testing.assert_close(cached, plain, rtol=1e-4, atol=1e-5)
    # float32 sums in another order: a few of 10^5 gradient elements differ by ~4e-5 (LLaVA-OV-1.5)
    torch.testing.assert_close(grad_cached, grad_plain, rtol=1e-4, atol=1e-4)
    # the definition, one latent at a time: the first latent of row 1 is h at the position before it
    with torch.no_grad(), FinalHidden(model).recording() as hidden:
        model(**inputs)
    torch.testing.assert_close(plain[4], hidden.value[1, starts[1] - 1], rtol=1e-4, atol=1e-5)
    # and a later latent depends on the earlier one: with the earlier filled, h before the second equals row 2
    with torch.no_grad(), LatentRows(model).replacing(mask & (torch.arange(mask.shape[1]) == starts[0]), plain[:1]):
        with FinalHidden(model).recording() as hidden:
            model(**inputs)
    torch.testing.assert_close(plain[1], hidden.value[0, starts[0]], rtol=1e-4, atol=1e-5)
