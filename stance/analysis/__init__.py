"""Reading scored collections: `compare` (groups x actors, intervals), `quantify` (confusion-matrix
correction and the bootstrap), `report` (the HTML report) and `actor_table` (actors to review and merge)."""
