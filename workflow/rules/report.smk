# Results: one process builds the experiment's DuckDB from every cell file (DuckDB has one
# writer: never from parallel jobs), SQL writes the tables, and the selected experiment's tables
# are published as results/table1.csv etc. (the main target, for every experiment).

localrules: collect, tables, publish, publish_report


rule collect:
    input:
        cells=lambda wildcards: cell_files(wildcards.exp),
        benchmarks=lambda wildcards: train_benchmarks(wildcards.exp) + eval_benchmarks(wildcards.exp),
        checkpoints=lambda wildcards: checkpoints_of(wildcards.exp),
    output:
        f"{RESULTS}/{{exp}}/livr.duckdb",
    params:
        train_metrics=lambda wildcards: train_metrics_files(wildcards.exp),
    log:
        "logs/{exp}/collect.log",
    benchmark:
        "benchmarks/{exp}/collect/collect.tsv"
    threads: 1
    shell:
        "livr collect --cells {input.cells} --benchmarks {input.benchmarks}"
        " --train-metrics {params.train_metrics} --out {output} > {log} 2>&1"


rule tables:
    input:
        f"{RESULTS}/{{exp}}/livr.duckdb",
    output:
        [f"{RESULTS}/{{exp}}/{name}" for name in jobs.TABLES],
    params:
        out_dir=lambda wildcards, output: str(Path(output[0]).parent),
        paper_backbones=lambda wildcards: jobs.paper_backbone_args(config, wildcards.exp),
    log:
        "logs/{exp}/tables.log",
    benchmark:
        "benchmarks/{exp}/tables/tables.tsv"
    threads: 1
    shell:
        "livr tables --db {input} --experiment {wildcards.exp} --out-dir {params.out_dir}"
        " --paper-backbone {params.paper_backbones} > {log} 2>&1"


rule publish:
    """The selected experiment's database and tables at the top of results/ (copies)."""
    input:
        db=f"{RESULTS}/{EXP}/livr.duckdb",
        tables=[f"{RESULTS}/{EXP}/{name}" for name in jobs.TABLES],
    output:
        db=f"{RESULTS}/livr.duckdb",
        tables=[f"{RESULTS}/{name}" for name in jobs.TABLES],
    params:
        experiment=EXP,
    log:
        "logs/publish.log",
    benchmark:
        "benchmarks/publish.tsv"
    threads: 1
    shell:
        "(cp {input.db} {output.db} && for f in {input.tables}; do cp $f {RESULTS}/; done) > {log} 2>&1"


def livr_checkpoints(exp):
    """The trained LIVR checkpoints the report draws latent attention maps from."""
    return [jobs.checkpoint_dir(config, exp, b, ts, m) for b, ts, m in jobs.train_jobs(config, exp) if m == "livr"]


rule report:
    """results/<exp>/report.html: tables, LIVR-SFT deltas beside the paper's, training curves,
    latent-to-image attention maps (loads each LIVR checkpoint: a GPU for real backbones) and
    per-example failures, in one self-contained page (livr/report.py)."""
    input:
        db=f"{RESULTS}/{{exp}}/livr.duckdb",
        checkpoints=lambda wildcards: livr_checkpoints(wildcards.exp),
        data=lambda wildcards: [jobs.task_dir(config, wildcards.exp, t) for t in livr_config.tasks_of(config, wildcards.exp)],
        models=lambda wildcards: [jobs.model_dir(config, b) for b in jobs.tiny_backbones(config, wildcards.exp)],
    output:
        f"{RESULTS}/{{exp}}/report.html",
    params:
        params_file=PARAMS_FILE,
    log:
        "logs/{exp}/report.log",
    benchmark:
        "benchmarks/{exp}/report/report.tsv"
    threads: threads_of
    resources:
        gpu=lambda wildcards: int(any(not jobs.is_tiny(b) for b in jobs.backbones(config, wildcards.exp))),
    shell:
        "livr report --params {params.params_file} --experiment {wildcards.exp} --db {input.db}"
        " --out {output} --threads {threads} > {log} 2>&1"


rule publish_report:
    """The selected experiment's report at results/report.html (a copy)."""
    input:
        f"{RESULTS}/{EXP}/report.html",
    output:
        f"{RESULTS}/report.html",
    log:
        "logs/publish_report.log",
    benchmark:
        "benchmarks/publish_report.tsv"
    threads: 1
    shell:
        "cp {input} {output} > {log} 2>&1"
