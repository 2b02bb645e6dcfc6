"""Task builders (paper Appendix A), one module each.

Each module defines `DEFAULTS` (the paper's numbers, mirrored with comments in params.yaml under
`paper_data.<task>`), `SOURCES` (the source names it reads from data/raw/) and
`build(raw_root, out_dir, cfg, seed)` which writes a task directory in the record format of
livr/data/schema.py.
"""

BUILDERS = {
    "counting": "livr.data.tasks.counting",
    "jigsaw": "livr.data.tasks.jigsaw",
    "localization": "livr.data.tasks.localization",
    "visual_correspondence": "livr.data.tasks.visual_correspondence",
    "art_style": "livr.data.tasks.art_style",
    "semantic_correspondence": "livr.data.tasks.semantic_correspondence",
    "functional_correspondence": "livr.data.tasks.functional_correspondence",
    "relative_reflectance": "livr.data.tasks.relative_reflectance",
    "visual_similarity": "livr.data.tasks.visual_similarity",
}
