"""configs/README.md's key tables against the key declarations (`ganleaks keys`): every declared key documented with
its type, default, allowed values and meaning as declared, and nothing documented that is not declared.
usage: check_key_tables.py GANLEAKS_BINARY README"""
import re
import subprocess
import sys


def tables(markdown):
    """{section: table text} for every "## `[section]`" heading followed (after prose) by a Markdown table."""
    out = {}
    for match in re.finditer(r"^## `\[([a-z_]+)\]`[^\n]*\n", markdown, re.M):
        rest = markdown[match.end():]
        nxt = re.search(r"^## ", rest, re.M)
        body = rest[: nxt.start()] if nxt else rest
        rows = [line for line in body.splitlines() if line.startswith("|")]
        out[match.group(1)] = "\n".join(rows)
    return out


def main():
    binary, readme = sys.argv[1], sys.argv[2]
    generated = subprocess.run([binary, "keys"], check=True, capture_output=True, text=True).stdout
    declared, documented = tables(generated), tables(open(readme, encoding="utf-8").read())
    problems = []
    for section in declared.keys() - documented.keys():
        problems.append(f"[{section}] is declared but has no key table in {readme}")
    for section in documented.keys() - declared.keys():
        problems.append(f"[{section}] has a key table in {readme} but is not a section of any task")
    for section in declared.keys() & documented.keys():
        want, have = declared[section].splitlines(), documented[section].splitlines()
        if want == have:
            continue
        keys = lambda rows: {row.split("|")[1].strip(): row for row in rows[2:]}
        w, h = keys(want), keys(have)
        for key in w.keys() - h.keys():
            problems.append(f"[{section}] {key} is declared but not documented")
        for key in h.keys() - w.keys():
            problems.append(f"[{section}] {key} is documented but not declared")
        for key in w.keys() & h.keys():
            if w[key] != h[key]:
                problems.append(f"[{section}] {key} differs:\n  declared:   {w[key]}\n  documented: {h[key]}")
        if not problems and want != have:
            problems.append(f"[{section}]: the rows are in another order than declared")
    if problems:
        print("\n".join(problems))
        print(f"\n{len(problems)} problem(s); `{binary} keys` prints the tables as declared (src/*/config.h)")
        sys.exit(1)
    print(f"{len(declared)} sections, {sum(len(t.splitlines()) - 2 for t in declared.values())} keys: documented as declared")


main()
