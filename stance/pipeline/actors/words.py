"""Word lists that several of the finder's rules share: personal titles and honorifics, the words that may wrap
a registry match inside an entity, dates, sentence stops, institution words, name particles, possessive endings and
quotation marks. Lists that only one rule reads live beside that rule."""

from __future__ import annotations

# Words dropped from the start of a PERSON entity ("President Biden" -> "Biden").
TITLES = frozenset(
    """mr mr. mrs mrs. ms ms. dr dr. president vice prime minister foreign secretary chancellor premier senator sen.
    rep. representative governor gov. general gen. lt. col. colonel commander defence defense state deputy speaker
    mayor ambassador spokesman spokeswoman spokesperson leader chairman chairwoman former opposition of the surgeon
    special counsel adviser advisor""".split()
)
# Words that may wrap a registry match inside an entity without making it a different actor.
CONNECTORS = TITLES | frozenset(
    """'s ’s - government administration authorities regime cabinet ministry department interior affairs external
    home office military army navy air force forces armed embassy consulate mission delegation presidency
    presidential parliament federal national leadership officials troops security intelligence council campaign
    camp team""".split()
)
# An inverted attribution ("Said Macron, ..."): before a registry name it wraps the name and is no given name
# (not a connector: "Kanye West Said" in a headline would then stay one name; "Said Jalili" keeps his given name).
ATTRIBUTION_OPENERS = frozenset({"said"})
# Words before a name that are part of how the person is called, so not stripped, but not a given name either.
HONORIFICS = frozenset(
    """king queen prince princess emperor empress pope sheikh emir sultan ayatollah crown lord lady sir dame cardinal
    archbishop bishop rabbi imam father commissioner envoy director chief justice judge professor prof admiral
    marshal captain sergeant inspector officer attorney mp mep""".split()
)
CALENDAR = frozenset(
    """yesterday today tomorrow tonight monday tuesday wednesday thursday friday saturday sunday january february
    march april may june july august september october november december""".split()
)
STOPS = frozenset({".", "!", "?", "…"})
INSTITUTION_WORDS = frozenset(
    """house senate congress parliament court assembly council committee commission department ministry agency
    bureau office army navy party government administration cabinet legislature chamber board""".split()
)
NAME_PARTICLES = frozenset("the of and for de du des la le van von der den al el da di del y".split())
POSSESSIVES = frozenset({"'s", "’s", "'", "’"})
QUOTE_MARKS = "\"'“”‘’«»"  # trimmed from the edges of an NER entity and of a later surname mention
