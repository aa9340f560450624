"""Request bodies for the load harness: a realistic mix of reader comments.

Texts, their lengths and their share of toxic comments come from the third-party eval
sets in ../shared/eval (reading texts for a load mix is not tuning anything); when those
are absent a built-in synthetic mix is used. Every body has its own author and the
articles rotate, so duplicate detection and per-author limits never interfere.

    python3 bench/bodies.py OUT.jsonl [--n 20000] [--seed 7]
"""

import argparse
import csv
import json
import random
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

MAX_CHARS = 1500  # config.toml [comments] max_chars: longer bodies would be refused (422)
ARTICLES = 500

# Share of each source in the mix. Russian because the site's readers write it; long
# English comments are the classifier's expensive case; short English replies are common.
WEIGHTS = {"en_long": 0.45, "en_short": 0.20, "ru": 0.35}

csv.field_size_limit(sys.maxsize)


@dataclass
class Text:
    body: str
    toxic: bool
    source: str


def load_eval(eval_dir: Path) -> dict[str, list[Text]] | None:
    """Texts per source from the eval sets, or None when they are not there."""
    files = {
        "en_long": [
            ("jigsaw2018_test_samples/detoxify_dummy_test_labelled.csv", "comment_text", "toxic"),
            ("jigsaw2018_test_samples/ibm_max_test_examples.csv", "comment_text", "toxic"),
        ],
        "en_short": [("hatecheck_en/test_suite_cases.csv", "test_case", "label_gold")],
        "ru": [("jigsaw_multilingual_2020/test6000_labelled.csv", "text", "toxic")],
    }
    pools: dict[str, list[Text]] = {}
    for source, specs in files.items():
        pool = []
        for rel, text_col, label_col in specs:
            path = eval_dir / rel
            if not path.is_file():
                return None
            with path.open(encoding="utf-8", newline="") as f:
                for row in csv.DictReader(f):
                    if source == "ru" and row.get("lang") != "ru":
                        continue
                    body = " ".join(row[text_col].split())[:MAX_CHARS].strip()
                    if body:
                        toxic = row[label_col].strip() in ("1", "hateful")
                        pool.append(Text(body, toxic, source))
        pools[source] = pool
    return pools


# Fallback: sentences in the style of the site's comments, a few of them rude.
SYNTHETIC = {
    "en": [
        ("The new metro line in Tashkent is great but the tickets are too expensive.", False),
        ("Thank you for covering the water shortage in the villages.", False),
        ("The minister should resign, he has failed every promise he made last spring.", False),
        ("My grandmother lives in Almaty and says the prices doubled since winter.", False),
        ("Please check your facts, the bridge was opened in 2019 and not in 2021.", False),
        ("What an idiot, go back to school before you write about economics.", True),
        ("Shut up, nobody cares about your opinion, you worthless troll.", True),
        ("This is fake news and the author is a clown who should be ashamed.", True),
    ],
    "ru": [
        ("Спасибо за статью, наконец кто-то написал про дороги в области.", False),
        ("Цены на хлеб выросли вдвое, а зарплаты остались прежними.", False),
        ("Автор, проверьте факты, мост открыли в 2019 году.", False),
        ("Что за бред, автор вообще думает головой или нет?", True),
        ("Заткнись уже, никому не интересно твое мнение, идиот.", True),
    ],
}


def synthetic(rng: random.Random, n: int = 2000) -> dict[str, list[Text]]:
    """Comments of 20-80 words (short ones of 5-15, Russian 15-60) from the sentences above."""
    pools: dict[str, list[Text]] = {"en_long": [], "en_short": [], "ru": []}
    for source, lang, lo, hi in [("en_long", "en", 20, 80), ("en_short", "en", 5, 15), ("ru", "ru", 15, 60)]:
        polite = [s for s, rude in SYNTHETIC[lang] if not rude]
        rude = [s for s, rude in SYNTHETIC[lang] if rude]
        for _ in range(n):
            # About a quarter toxic, as in the eval mix: one rude sentence among polite ones.
            toxic = rng.random() < 0.25
            words = rng.choice(rude).split() if toxic else []
            target = rng.randint(lo, hi)
            while len(words) < target:
                words.extend(rng.choice(polite).split())
            pools[source].append(Text(" ".join(words[:target]), toxic, source))
    return pools


def build(n: int, seed: int, eval_dir: Path, weights: dict[str, float] | None = None) -> tuple[list[dict], str]:
    """`n` request bodies and the name of the mix used (`eval` or `synthetic`); `weights`
    replaces the sources' shares (WEIGHTS)."""
    rng = random.Random(seed)
    pools = load_eval(eval_dir)
    mix = "eval"
    if pools is None or any(not p for p in pools.values()):
        pools, mix = synthetic(rng), "synthetic"
    shares = weights or WEIGHTS
    sources = list(shares)
    relative = [shares[s] for s in sources]
    bodies = []
    for i in range(n):
        text = rng.choice(pools[rng.choices(sources, relative)[0]])
        bodies.append(
            {
                "article_id": f"bench-article-{i % ARTICLES}",
                "author_name": f"reader {i}",
                "body": text.body,
                "_toxic": text.toxic,
                "_source": text.source,
            }
        )
    return bodies, mix


def describe(bodies: list[dict], mix: str) -> str:
    """One line on the mix: sources, words per comment, share labelled toxic."""
    words = sorted(len(b["body"].split()) for b in bodies)
    deciles = statistics.quantiles(words, n=10)
    shares = {s: sum(b["_source"] == s for b in bodies) / len(bodies) for s in WEIGHTS}
    toxic = sum(b["_toxic"] for b in bodies) / len(bodies)
    share_text = ", ".join(f"{s} {v:.0%}" for s, v in shares.items())
    return (
        f"{len(bodies)} bodies from the {mix} mix ({share_text}); words per comment "
        f"p10 {deciles[0]:.0f} / p50 {deciles[4]:.0f} / p90 {deciles[8]:.0f}, "
        f"mean {statistics.mean(words):.0f}; {toxic:.0%} labelled toxic"
    )


def write_jsonl(bodies: list[dict], out: Path) -> None:
    """One JSON object per line (oha -Z sends a random line per request)."""
    with out.open("w", encoding="utf-8") as f:
        for b in bodies:
            public = {k: v for k, v in b.items() if not k.startswith("_")}
            f.write(json.dumps(public, ensure_ascii=False) + "\n")


def default_eval_dir() -> Path:
    return Path(__file__).resolve().parent.parent.parent / "shared" / "eval"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--eval-dir", type=Path, default=default_eval_dir())
    args = ap.parse_args()
    bodies, mix = build(args.n, args.seed, args.eval_dir)
    write_jsonl(bodies, args.out)
    print(describe(bodies, mix))


if __name__ == "__main__":
    main()
