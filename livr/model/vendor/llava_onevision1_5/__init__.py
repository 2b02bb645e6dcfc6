"""transformers 5.25.0's LLaVA-OneVision-1.5 model code, vendored.

Source: the transformers 5.25.0 wheel (released 2026-12-01), `transformers/models/llava_onevision1_5/`
configuration_llava_onevision1_5.py and modeling_llava_onevision1_5.py, Copyright 2026 The
HuggingFace Inc. team, Apache License 2.0 (their headers are kept). Changed: the package-relative
imports (`from ...x import`, `from ..auto import`) are absolute (`from transformers.x import`);
nothing else. `conversion.py` carries the hub-name weight renaming of that release's
conversion_mapping.py.

Used only where the installed transformers has no `transformers.models.llava_onevision1_5`
(livr/model/llava_ov_1_5.py decides): 5.25 declares `kernels>=0.19.1,<0.20`, which some package
indexes do not have, and pip then settles on 5.24, which lacks the class. Delete this package once
the project can require transformers>=5.25.
"""
