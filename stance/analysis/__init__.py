"""Reading scored collections: `compare` (groups x actors, intervals: runs the steps below), `groups`
(the table of sentences, mentions and devices, in groups), `confusion` (which confusion matrix corrects
the shares), `measures` (the statistics as objects), `estimates` (the bootstrap over articles),
`differences` (between groups), `examples` (sentences for the report), `quantify` (confusion-matrix
correction and the bootstrap's numerics), `report` (the HTML report) and `actor_table` (actors to review and merge)."""
