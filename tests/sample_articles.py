"""Small articles written for the tests (shared by the scoring and service tests)."""

ARTICLES = [
    {
        "id": "a1",
        "title": "Kremlin rejects plan",
        "outlet": "Ledger",
        "date": "2025-03-01",
        "text": 'MOSCOW (Reuters) - The Kremlin rejected the so-called peace plan on Monday. Sergei Lavrov called it a "provocation".\n\nLavrov said talks could resume.',
    },
    {
        "id": "a2",
        "outlet": "Wire",
        "date": "2025-03-02",
        "topic": {"name": "trade"},
        "text": "Beijing hailed the trade deal with the U.S. as a breakthrough. Wang Yi met officials in Washington. Wang said both sides gained.",
    },
    {"id": "a3", "outlet": "Star", "text": "Critics say the EU's new rules are draconian. Brussels disagrees."},
]
