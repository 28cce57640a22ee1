"""What a scoring run is and the engines that carry it out: `settings` (PipelineSettings: the scoring
pipeline's settings and their defaults, written once, for every entry point; imports nothing),
`options` (ScoreOptions, the model pinned once), `record` (what a run leaves behind: run.json, its
counts), `local` (processes on this machine: output lock, shards, resume), `ray_engine` (the same on a
Ray cluster: the driver, with its parts `ray_cluster`, `ray_inputs`, `ray_actor` and `ray_output`),
`predictor` (the per-batch work every engine runs) and `predict_stance` (target-given JSONL prediction)."""
