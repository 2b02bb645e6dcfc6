import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from livr.data.dedup import NearDuplicateIndex, dedup_settings, hamming, phash, ssim


def natural(seed, size=(320, 240)):
    """Smooth random colour field + a few shapes + sensor noise: photo-like statistics."""
    r = np.random.default_rng(seed)
    x = r.normal(size=(6, 8, 3))
    im = Image.fromarray(((x - x.min()) / np.ptp(x) * 255).astype(np.uint8)).resize(size, Image.BICUBIC)
    d = ImageDraw.Draw(im)
    for _ in range(4):
        x0, y0 = r.integers(0, size[0] - 40), r.integers(0, size[1] - 40)
        d.ellipse(
            [x0, y0, x0 + r.integers(20, 120), y0 + r.integers(20, 100)],
            fill=tuple(int(v) for v in r.integers(0, 255, 3)),
        )
    a = np.asarray(im).astype(float) + r.normal(0, 6, size=(size[1], size[0], 3))
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def jpeg(im, q=35):
    b = io.BytesIO()
    im.save(b, "JPEG", quality=q)
    b.seek(0)
    return Image.open(b)


def variants(im):
    w, h = im.size
    return {
        "jpeg": jpeg(im),
        "resized": im.resize((w // 2, h // 2)),
        "shifted": im.crop((6, 4, w, h)).resize((w, h)),
        "brighter": Image.fromarray(np.clip(np.asarray(im).astype(int) + 15, 0, 255).astype(np.uint8)),
    }


def test_phash_and_ssim_basics():
    a, b = natural(1), natural(2)
    assert phash(a) == phash(a.copy())
    assert 0 <= phash(a) < 2**64
    assert hamming(phash(a), phash(b)) > 12
    assert ssim(a, a) == pytest.approx(1.0)
    assert ssim(a, b) < 0.6
    for name, v in variants(a).items():
        assert hamming(phash(a), phash(v)) <= 8, name


def test_index_drops_planted_near_duplicates_and_keeps_distinct():
    tests = [natural(i) for i in range(10)]
    idx = NearDuplicateIndex(tests)
    planted = [(f"dup{i}_{k}", [v]) for i in (0, 3, 7) for k, v in variants(tests[i]).items()]
    distinct = [(f"new{i}", [natural(100 + i)]) for i in range(30)]
    kept, dropped = idx.filter(planted + distinct)
    assert sorted(kept) == sorted(k for k, _ in distinct)
    assert sorted(k for k, _ in dropped) == sorted(k for k, _ in planted)
    for item, hit in dropped:
        assert hit["test_index"] == int(item[3]) and hit["reason"] in ("phash", "ssim")


def test_any_image_of_a_record_triggers_drop_and_thresholds_apply():
    tests = [natural(i) for i in range(3)]
    idx = NearDuplicateIndex(tests)
    kept, dropped = idx.filter([("r", [natural(50), jpeg(tests[1])])])
    assert kept == [] and dropped[0][1]["test_index"] == 1
    strict = NearDuplicateIndex(tests, phash_max_distance=-1, ssim_threshold=1.01)
    assert not strict.is_duplicate(jpeg(tests[1]))
    assert not NearDuplicateIndex([]).is_duplicate(tests[0])


def test_dedup_settings_defaults():
    s = dedup_settings({})
    assert s["clip_model"] is None and s["phash_max_distance"] == 8
    assert dedup_settings({"dedup": {"clip_model": "openai/clip-vit-base-patch32"}})["clip_model"]
