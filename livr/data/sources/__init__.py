"""Public data sources, one module each: `download(raw_dir, cfg)` plus parsers for the task builders.

Each source downloads into data/raw/<source>/ and writes data/raw/<source>/manifest.json last
(what was fetched, checksums, what was dropped and why): the manifest marks a finished download.
Sources in MANUAL_SOURCES hold data no script can fetch; their module's `import_manual` (the CLI's
`livr data import`) checks and manifests it instead (docs/DATA.md).
"""

SOURCES = {
    "pixmo_count": "livr.data.sources.pixmo_count",
    "coco2017": "livr.data.sources.coco",
    "hpatches": "livr.data.sources.hpatches",
    "artbench10": "livr.data.sources.artbench",
    "spair71k": "livr.data.sources.spair",
    "funkpoint": "livr.data.sources.funkpoint",
    "mid": "livr.data.sources.mid",
    "nights": "livr.data.sources.nights",
    "blink": "livr.data.sources.blink",
    # The comparison experiments (Tables 3 and 4, Mirage VSP): see livr/data/benchmarks/.
    "vigorl": "livr.data.sources.vigorl",
    "robospatial_home": "livr.data.sources.robospatial_home",
    "mmvp": "livr.data.sources.mmvp",
    "vstar": "livr.data.sources.vstar",
    "visual_cot": "livr.data.sources.visual_cot",
    "mirage": "livr.data.sources.mirage",
}
# Sources with data no script can fetch: `livr data import <source> --from PATH` (their MANUAL step).
MANUAL_SOURCES = ("funkpoint", "mid")
