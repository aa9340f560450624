"""Identity-term swaps (counterfactual data augmentation, as in Dixon et al. 2018 and
Zmigrod et al. 2019): copies of training rows that name a group the training text mentions
often, with that word replaced by a group of the same kind that it hardly mentions, and the
row's labels unchanged.

Why: a word the training text uses almost only in attacks, or hardly at all, is one the
model learns to fear ("nonbinary", "sikh", "deaf", the region's own ethnonyms). A swapped
copy carries the frequent word's whole context, harmless and abusive alike, so the rare
word is taught to mean what the frequent one means: an attack on Sikhs stays an attack, a
sentence that merely names them does not become one. Real sentences, both labels; no
templates.

Which words are rare is decided from the training rows themselves: a class's terms with
fewer than `rare_below` harmless mentions receive copies, the others give them.
"""

from __future__ import annotations

import random
import re

import numpy as np

# Swap classes: words that can stand for each other in a sentence. `plural`: the class's
# words are also nouns taking -s ("Muslims" -> "Sikhs"); the others are swapped only in the
# singular (adjectives: "gay people" -> "nonbinary people"). Ambiguous words (straight, old,
# roma, orthodox) and multi-word terms are left out.
CLASSES = {
    "sexual orientation and gender identity": (
        False,
        ["gay", "lesbian", "bisexual", "homosexual", "heterosexual", "queer", "transgender", "trans", "nonbinary", "asexual", "pansexual", "intersex", "genderqueer", "cisgender"],
    ),
    "religion": (True, ["muslim", "jew", "jewish", "christian", "catholic", "protestant", "mormon", "buddhist", "hindu", "sikh", "atheist"]),
    "disability": (False, ["blind", "deaf", "disabled", "paralyzed", "autistic"]),
    "nationality and ethnicity": (
        True,
        [
            "american", "canadian", "mexican", "european", "british", "german", "french", "chinese", "japanese", "korean",
            "indian", "pakistani", "afghan", "turkish", "iranian", "syrian", "kazakh", "russian", "uzbek", "kyrgyz",
            "tajik", "turkmen", "uyghur", "tatar", "ukrainian", "dungan", "karakalpak",
        ],
    ),
}


def _pattern(terms: list[str], plural: bool) -> re.Pattern:
    alternatives = "|".join(sorted(map(re.escape, terms), key=len, reverse=True))
    return re.compile(rf"\b({alternatives})({'s' if plural else ''})?\b" if plural else rf"\b({alternatives})\b", re.IGNORECASE)


def _cased(word: str, like: str) -> str:
    if like.isupper() and len(like) > 1:
        return word.upper()
    if like[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def swap(text: str, source_term: str, target: str, plural: bool) -> str:
    """`text` with every mention of `source_term` (and its plural, for noun classes) replaced
    by `target`, in the same case."""
    pattern = _pattern([source_term], plural)

    def repl(m: re.Match) -> str:
        suffix = (m.group(2) or "") if plural else ""
        return _cased(target, m.group(1)) + suffix

    return pattern.sub(repl, text)


def mentioned(text: str, terms: list[str], plural: bool) -> set[str]:
    """The class terms `text` names (lower case)."""
    return {m.group(1).lower() for m in _pattern(terms, plural).finditer(text)}


def _harmful(label_row: np.ndarray) -> float:
    """The row's verdict label: identity_hate where the source says, else toxic (NaN: none)."""
    return label_row[5] if not np.isnan(label_row[5]) else label_row[0]


def plan(texts: list[str], y: np.ndarray, rare_below: int) -> dict[str, dict]:
    """Per class: its rare terms (targets) and frequent ones (sources), from the harmless
    mentions in these rows, and the rows that name exactly one source term (row -> term)."""
    out = {}
    for name, (plural, terms) in CLASSES.items():
        harmless = dict.fromkeys(terms, 0)
        naming: dict[int, str] = {}
        for i, t in enumerate(texts):
            found = mentioned(t, terms, plural)
            if not found:
                continue
            if _harmful(y[i]) == 0:
                for term in found:
                    harmless[term] += 1
            if len(found) == 1:
                naming[i] = next(iter(found))
        targets = [t for t in terms if harmless[t] < rare_below]
        sources = [t for t in terms if harmless[t] >= rare_below]
        rows = {i: term for i, term in naming.items() if term in sources and not np.isnan(_harmful(y[i]))}
        out[name] = {"plural": plural, "targets": targets, "sources": sources, "rows": rows, "harmless_mentions": harmless}
    return out


def augment(texts: list[str], y: np.ndarray, groups: np.ndarray, per_target: int, rare_below: int, seed: int):
    """Swapped copies: for each rare term, `per_target` rows drawn (seeded, without
    replacement) from the rows naming one frequent term of its class, in their natural mix
    of harmless and abusive. Returns texts, labels, the original rows' indices, groups and a
    summary for the data list."""
    rng = random.Random(seed)
    out_texts, out_rows, out_groups, summary = [], [], [], {}
    for name, p in plan(texts, y, rare_below).items():
        pool = sorted(p["rows"])
        per_term = {}
        for target in p["targets"]:
            picked = rng.sample(pool, min(per_target, len(pool)))
            for i in picked:
                term = p["rows"][i]
                out_texts.append(swap(texts[i], term, target, p["plural"]))
                out_rows.append(i)
                out_groups.append(f"swap/{target}/{groups[i]}")
            per_term[target] = {"rows": len(picked), "abusive": int(sum(_harmful(y[i]) >= 0.5 for i in picked))}
        summary[name] = {"from": p["sources"], "to": per_term}
    idx = np.array(out_rows, dtype=np.int64)
    return out_texts, y[idx], idx, np.array(out_groups), summary
