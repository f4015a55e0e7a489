#!/usr/bin/python3
"""Writes bench/RESULTS.md from the sections one bench/run.sh run produced,
keeping every other section as an earlier run wrote it.

    merge_results.py OUT STAMP SECTION=FILE [SECTION=FILE ...]

STAMP is one line saying when, where and at which commit this run ran. Each
section of OUT sits between `<!-- section NAME: STAMP -->` and
`<!-- end NAME -->`, so a run of a few sections replaces only those. A file
from before the markers is split at its `## ` headings (the first words name
the section) and its header's date, machine and commit become the stamp of
what it kept.
"""
import re
import sys

# busypoll: hand-kept figures from earlier sessions (no run produces it; kept like any other).
ORDER = ["ring", "resp", "busypoll", "gossip", "gossip10k", "membership", "nginx", "failures", "crypto", "soak"]
LEGACY_HEADINGS = {"## Ring": "ring", "## RESP server": "resp", "## Membership, simulated": "gossip",
                   "## Membership, real processes": "membership", "## nginx": "nginx"}


def read_sections(text):
    """{name: (stamp, body)} from an existing RESULTS.md."""
    found = {}
    for m in re.finditer(r"<!-- section (\w+): (.*?) -->\n(.*?)<!-- end \1 -->", text, re.S):
        body = re.sub(r"\A_From the .*?_\n\n", "", m.group(3), flags=re.S)
        found[m.group(1)] = (m.group(2), body.rstrip("\n") + "\n")
    if found or not text.strip():
        return found
    # Before the markers: one header, then `## ` sections.
    date = re.search(r"Written by `bench/run.sh` on (\S+)", text)
    machine = re.search(r"^- machine: (.*)$", text, re.M)
    commit = re.search(r"^- commit: (\S+)", text, re.M)
    stamp = "run of %s at commit %s; %s" % (date.group(1) if date else "?", commit.group(1) if commit else "?",
                                            machine.group(1) if machine else "?")
    parts = re.split(r"^(?=## )", text, flags=re.M)
    for part in parts:
        for heading, name in LEGACY_HEADINGS.items():
            if part.startswith(heading):
                found[name] = (stamp, part.rstrip("\n") + "\n")
    return found


def main():
    out, stamp = sys.argv[1], sys.argv[2]
    try:
        with open(out, encoding="utf-8") as f:
            sections = read_sections(f.read())
    except FileNotFoundError:
        sections = {}
    for arg in sys.argv[3:]:
        name, path = arg.split("=", 1)
        with open(path, encoding="utf-8") as f:
            sections[name] = (stamp, f.read().rstrip("\n") + "\n")
    names = [n for n in ORDER if n in sections] + sorted(n for n in sections if n not in ORDER)
    with open(out, "w", encoding="utf-8") as f:
        f.write("# Benchmark results\n\n")
        f.write("Written by `bench/run.sh` — do not edit by hand. Each section says which run "
                "produced it (`SECTIONS=... bench/run.sh` reruns some and keeps the others).\n\n")
        for name in names:
            s, body = sections[name]
            f.write("<!-- section %s: %s -->\n" % (name, s))
            f.write("_From the %s._\n\n" % s)
            f.write(body)
            f.write("<!-- end %s -->\n\n" % name)


if __name__ == "__main__":
    main()
