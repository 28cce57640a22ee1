"""A generated news-like corpus for benchmarks: fictional sentences with a realistic density of
actors (registry names, capitals as metonyms, leaders, surnames) and framing devices.

    python bench/corpus.py --sentences 20000 --out bench/corpus.jsonl
"""

from __future__ import annotations

import argparse
import json
import random

OUTLETS = ["The Harbour Ledger", "Capital Daily Wire", "Northern Star Online"]
STATES = [
    "Russia",
    "China",
    "the United States",
    "Ukraine",
    "Germany",
    "France",
    "Iran",
    "Israel",
    "India",
    "Turkey",
    "Japan",
    "Brazil",
]
METONYMS = ["Moscow", "Beijing", "Washington", "Kyiv", "Berlin", "Paris", "Tehran", "the Kremlin", "the White House", "Ankara"]
ORGS = ["NATO", "the European Union", "the United Nations", "the IMF", "the World Health Organization", "OPEC", "the World Bank"]
PEOPLE = [
    "Vladimir Putin",
    "Xi Jinping",
    "Joe Biden",
    "Volodymyr Zelensky",
    "Emmanuel Macron",
    "Olaf Scholz",
    "Sergei Lavrov",
    "Wang Yi",
    "Antony Blinken",
    "Narendra Modi",
    "Recep Tayyip Erdogan",
]
TOPICS = [
    "the ceasefire proposal",
    "new sanctions",
    "the trade agreement",
    "tariffs on electric vehicles",
    "the grain corridor",
    "energy prices",
    "the border dispute",
    "military aid",
    "the climate pledge",
    "the refugee plan",
    "interest rates",
]
VERBS = [
    "criticised",
    "welcomed",
    "rejected",
    "backed",
    "questioned",
    "praised",
    "condemned",
    "discussed",
    "defended",
    "dismissed",
]
FRAMES = [
    "",
    "",
    "",
    "Critics say ",
    "It is widely believed that ",
    "In an apparent dig at rivals, ",
    "In what many saw as a provocation, ",
]
QUALIFIERS = ["", "", "so-called ", '"temporary" ', "draconian ", "landmark ", "reckless "]
TAILS = [
    " on Monday.",
    " in a statement.",
    ", officials said.",
    " after talks in Geneva.",
    " during a press conference.",
    " late on Friday.",
    ", according to a spokesperson.",
    " despite growing pressure at home.",
]


def sentence(rng: random.Random) -> str:
    a = rng.choice(STATES + METONYMS + ORGS + PEOPLE)
    b = rng.choice(STATES + METONYMS + ORGS + PEOPLE + [""] * 4)
    frame = rng.choice(FRAMES)
    core = f"{a} {rng.choice(VERBS)} {rng.choice(QUALIFIERS)}{rng.choice(TOPICS)}"
    if b and b != a:
        core += f" proposed by {b}"
    text = frame + (core[0].lower() + core[1:] if frame.endswith("that ") and core[0].isupper() and a.startswith("the") else core)
    text = text[0].upper() + text[1:] + rng.choice(TAILS)
    return text


def article(rng: random.Random, i: int, n_sentences: int) -> dict:
    city = rng.choice(["MOSCOW", "KYIV", "BRUSSELS", "BEIJING", "WASHINGTON", "GENEVA"])
    paras, current = [], []
    for k in range(n_sentences):
        current.append(sentence(rng))
        if len(current) >= rng.randint(2, 4) or k == n_sentences - 1:
            paras.append(" ".join(current))
            current = []
    paras[0] = f"{city} (Wire) - " + paras[0]
    return {
        "id": f"bench-{i}",
        "title": sentence(rng).rstrip("."),
        "outlet": rng.choice(OUTLETS),
        "date": f"2025-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
        "text": "\n\n".join(paras),
    }


def generate(n_sentences: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    out, total = [], 0
    while total < n_sentences:
        k = rng.randint(8, 22)
        out.append(article(rng, len(out), k))
        total += k + 1
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sentences", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="bench/corpus.jsonl")
    args = parser.parse_args()
    articles = generate(args.sentences, args.seed)
    with open(args.out, "w") as fh:
        for a in articles:
            fh.write(json.dumps(a) + "\n")
    print(f"wrote {len(articles)} articles to {args.out}")


if __name__ == "__main__":
    main()
