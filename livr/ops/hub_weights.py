"""Before a command loads a real backbone or a released checkpoint: are its weights in the Hugging Face
cache, or can the hub be used to fetch them? If neither, one line naming the model id and the fix, in
seconds, instead of the hub client's retries and a long traceback.

The same test as `livr doctor`'s weights rows (livr/ops/doctor.py): every weight file in the cache
(huggingface_hub's own cache lookup), `HF_HUB_OFFLINE` honoured, else one short probe of the
model's hub page with a deadline.
"""

from __future__ import annotations

from pathlib import Path

from livr.config import is_local_weights
from livr.errors import InputError
from livr.model.backbones import get_backbone


def hub_weights_missing(repo_id: str) -> str | None:
    """None when `repo_id`'s weights can be loaded (cached, or the hub answers and downloads them on first
    use); else why not."""
    from livr.ops.doctor import cached_weights, hub_endpoint, hub_offline, probe

    if cached_weights(repo_id):
        return None
    if hub_offline():
        return "HF_HUB_OFFLINE is set"
    err = probe(f"{hub_endpoint()}/api/models/{repo_id}")
    return None if err is None else f"the hub is unreachable: {err}"


def _missing_weights(what: str, repo_id: str, why: str, alternative: str = "") -> InputError:
    from huggingface_hub import constants

    return InputError(
        f"{what}: weights {repo_id} are not in the Hugging Face cache ({constants.HF_HUB_CACHE}) "
        f"and {why}. Fix: `hf download {repo_id}` where the hub is reachable, into that cache (then "
        f"HF_HUB_OFFLINE=1 keeps later runs off the network){alternative}"
    )


def require_backbone_weights(name: str, random_weights_option: bool = False) -> None:
    """Return when backbone `name` can be loaded (a tiny build, cached weights, or a usable hub);
    else raise InputError. `random_weights_option`: the command takes --random-weights, so say so."""
    spec = get_backbone(name)
    why = None if spec.tiny else hub_weights_missing(spec.hf_id)
    if why is None:
        return
    alternative = (
        "; or pass --random-weights to build the real architecture with random weights" if random_weights_option else ""
    )
    raise _missing_weights(f"backbone {name}", spec.hf_id, why, alternative)


def require_released_weights(method: str, source: str) -> None:
    """Before loading a released checkpoint (params.yaml methods.<method>.weights_from): a local directory
    holds a config.json, a hub id's weights are cached or downloadable; else InputError."""
    if is_local_weights(source):
        if not (Path(source).expanduser() / "config.json").is_file():
            raise InputError(
                f"{source}: no config.json; methods.{method}.weights_from names a saved model directory or a hub id"
            )
        return
    why = hub_weights_missing(source)
    if why is not None:
        raise _missing_weights(f"method {method} (released checkpoint)", source, why)


def require_checkpoint_base_weights(name: str, checkpoint) -> None:
    """Before loading `checkpoint` of backbone `name` (None: the base model itself): a checkpoint of
    adapters (LoRA, latent rows) is merged into the base model, so the base's weights must be there;
    one holding full weights needs nothing more. A missing or unfinished checkpoint is one line too."""
    from livr.model.loading import FULL_WEIGHT_MODES, read_checkpoint_meta

    if checkpoint is None or read_checkpoint_meta(checkpoint)["finetune"] not in FULL_WEIGHT_MODES:
        require_backbone_weights(name)
