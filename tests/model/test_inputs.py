"""Prompt rendering, latent placement and labels."""

import pytest
import torch
from PIL import Image

from livr.data.schema import Record
from livr.model.backbones import REGISTRY, get_backbone
from livr.model.inputs import IGNORE, encode, latent_token_strings, render_prompt
from livr.model.latents import add_latent_tokens, latent_ids_of
from livr.model.loading import load_backbone
from livr.model.masks import ANSWER, IMAGE, LATENT

TINY = [n for n, b in REGISTRY.items() if b.tiny]


def record(n_images, answer, choices):
    return Record(
        id="r",
        task="counting" if not choices else "art_style",
        split="train",
        images=[f"{i}.png" for i in range(n_images)],
        question="Which one?",
        choices=choices,
        answer=answer,
        source="test",
    )


@pytest.fixture(scope="module", params=TINY)
def loaded(request, tiny_models_dir):
    model, processor = load_backbone(request.param, tiny_models_dir, {}, torch.float32, "sdpa", "cpu")
    ids = add_latent_tokens(model, processor, 3, seed=0)
    return model, processor, get_backbone(request.param), ids


@pytest.mark.parametrize(
    "n_images,answer,choices", [(1, "7", []), (3, "B", ["x", "y"]), (4, "D", ["a", "b", "c", "d"])]
)
def test_labels_are_exactly_the_answer_and_end_token(loaded, n_images, answer, choices):
    _, processor, spec, _ = loaded
    imgs = [Image.new("RGB", (112, 112), (40 * i, 80, 120)) for i in range(n_images)]
    enc = encode(record(n_images, answer, choices), imgs, processor, spec, latent_token_strings(3))
    labelled = [t for t in enc.labels if t != IGNORE]
    assert processor.tokenizer.decode(labelled) == answer + spec.end_of_turn
    # labelled positions are exactly the tail of the sequence and carry the ANSWER role
    n = len(labelled)
    assert enc.labels[:-n] == [IGNORE] * (len(enc.labels) - n)
    assert enc.roles[-n:] == [ANSWER] * n and ANSWER not in enc.roles[:-n]
    # every image contributed its visual tokens
    assert enc.roles.count(IMAGE) == (enc.input_ids.count(processor.tokenizer.convert_tokens_to_ids(spec.image_token)))
    assert enc.roles.count(IMAGE) > 0 and enc.roles.count(LATENT) == 3


def test_latents_follow_the_assistant_header(loaded):
    _, processor, spec, ids = loaded
    latents = "".join(latent_token_strings(3))
    plain = render_prompt(processor, "Q?", 2, [], "after_prompt")
    text = render_prompt(processor, "Q?", 2, latent_token_strings(3), "after_prompt")
    assert text == plain + latents and text.endswith("<|im_start|>assistant\n" + latents)
    # the ablation: after the (last) image, right before the question text
    before = render_prompt(processor, "Q?", 2, latent_token_strings(3), "before_question")
    assert before == plain.replace("Q?", latents + "Q?")
    assert before.rindex(spec.image_token) < before.index(latents)
    assert render_prompt(processor, "Q?", 2, latent_token_strings(3), "start") == latents + plain
    assert latent_ids_of(processor.tokenizer) == ids
    with pytest.raises(ValueError, match="after_prompt, before_question, start"):
        render_prompt(processor, "Q?", 1, latent_token_strings(3), "before_prompt")


def test_latent_rows_are_new_and_tied_rows_untouched(tiny_models_dir):
    model, processor = load_backbone("tiny-qwen2.5-vl", tiny_models_dir, {}, torch.float32, "sdpa", "cpu")
    before = model.get_input_embeddings().weight.detach().clone()
    ids = add_latent_tokens(model, processor, 4, seed=0)
    after = model.get_input_embeddings().weight
    assert min(ids) == before.shape[0] and after.shape[0] == before.shape[0] + 4
    torch.testing.assert_close(after[: before.shape[0]], before, rtol=0, atol=0)
    assert model.get_output_embeddings().weight.data_ptr() == after.data_ptr()  # still tied
    rows = after[ids]
    assert rows.std() > 0 and not torch.allclose(rows[0], rows[1])
