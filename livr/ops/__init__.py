"""Operations tools around the paper's steps: the preflight (`livr doctor`), the weights check before
a real backbone loads (hub_weights), the per-job memory estimate (job_memory), one GPU per job
(gpu_slots), data-parallel helpers (distributed) and the cost measurements (`livr bench`,
`livr bench-data`)."""
