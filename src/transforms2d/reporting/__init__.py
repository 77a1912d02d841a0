"""What is made of stored runs, above the engine's core: an experiment folder's report.md,
claims.json, tables and figures (:mod:`.report`), its self-contained report.html
(:mod:`.html`), the progress display of a grid (:mod:`.display`), every run as one table
(:mod:`.results`, ``transforms2d.load_results``), experiment trackers (:mod:`.trackers`) and
the statistics and verdict words the aggregates use (:mod:`.stats`, :mod:`.verdicts`). What
the paper's claims mean is the study's (:mod:`transforms2d.study`)."""
