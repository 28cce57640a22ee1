"""Article -> rows: `sentences` (news-aware splitting and boilerplate), `actors` (the actor registry and
the mention finder), `scorer` (sentences + actors + one model pass per sentence -> result rows)."""
