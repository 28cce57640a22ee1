"""What a scoring run is and the engines that carry it out: `settings` (PipelineSettings: the scoring
pipeline's settings and their defaults, written once, for every entry point; imports nothing),
`options` (ScoreOptions, the model pinned once),
`local` (processes on this machine: shards, resume, run.json), `ray_engine` (the same on a Ray cluster),
`predictor` (the per-batch work every engine runs) and `predict_stance` (target-given JSONL prediction)."""
