"""The comparison experiments' training sets and benchmarks: one module each, defining
`SPEC = TrainingSet(...)` or `SPEC = Benchmark(...)`."""
