"""Task builders (paper Appendix A), one module each.

Each module defines `DEFAULTS` (the paper's numbers, mirrored with comments in params.yaml under
`paper_data.<task>`) and `build(raw_root, out_dir, cfg, seed)`, which writes a task directory in
the record format of livr/data/schema.py. The task's spec (livr/data/specs/tasks/<task>.py) names
both, and the sources the builder reads from data/raw/.
"""
