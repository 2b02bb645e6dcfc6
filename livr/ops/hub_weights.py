"""Before a command loads a real backbone: are its weights in the Hugging Face cache, or can the hub be
used to fetch them? If neither, one line naming the model id and the fix, in seconds, instead of
the hub client's retries and a long traceback.

The same test as `livr doctor`'s weights rows (livr/ops/doctor.py): every weight file in the cache
(huggingface_hub's own cache lookup), `HF_HUB_OFFLINE` honoured, else one short probe of the
model's hub page with a deadline.
"""

from __future__ import annotations

from livr.errors import InputError
from livr.model.backbones import get_backbone


def require_backbone_weights(name: str, random_weights_option: bool = False) -> None:
    """Return when backbone `name` can be loaded (a tiny build, cached weights, or a usable hub);
    else raise InputError. `random_weights_option`: the command takes --random-weights, so say so."""
    from huggingface_hub import constants

    from livr.ops.doctor import cached_weights, hub_endpoint, hub_offline, probe

    spec = get_backbone(name)
    if spec.tiny or cached_weights(spec.hf_id):
        return
    if hub_offline():
        why = "HF_HUB_OFFLINE is set"
    else:
        err = probe(f"{hub_endpoint()}/api/models/{spec.hf_id}")
        if err is None:
            return  # the hub answers: the weights are downloaded on first use
        why = f"the hub is unreachable: {err}"
    alternative = (
        "; or pass --random-weights to build the real architecture with random weights" if random_weights_option else ""
    )
    raise InputError(
        f"backbone {name}: weights {spec.hf_id} are not in the Hugging Face cache ({constants.HF_HUB_CACHE}) "
        f"and {why}. Fix: `hf download {spec.hf_id}` where the hub is reachable, into that cache (then "
        f"HF_HUB_OFFLINE=1 keeps later runs off the network){alternative}"
    )


def require_checkpoint_base_weights(name: str, checkpoint) -> None:
    """Before loading `checkpoint` of backbone `name` (None: the base model itself): a checkpoint of
    adapters (LoRA, latent rows) is merged into the base model, so the base's weights must be there;
    one holding full weights needs nothing more. A missing or unfinished checkpoint is one line too."""
    from livr.model.loading import FULL_WEIGHT_MODES, read_checkpoint_meta

    if checkpoint is None or read_checkpoint_meta(checkpoint)["finetune"] not in FULL_WEIGHT_MODES:
        require_backbone_weights(name)
