"""Article -> rows: `sentences` (news-aware splitting), `boilerplate` (the boilerplate and dateline rules
the splitters use), `actors` (the actor registry and the mention finder), `scorer` (sentences + actors +
one model pass per sentence -> result rows)."""
