"""The column limit of .clang-format (100), checked on every C++ file of the project.

The code is laid out by clang-format where that reads well, and by hand where it does not: a
pipeline keeps one stage per line with `|` leading, which clang-format would not do. The
expectation comments of compile-fail tests are exempt: each is one regular expression on one line.
Usage: line_length.py ROOT
"""
import pathlib
import sys

LIMIT = 100
FOLDERS = ("include", "tools", "examples", "benchmarks", "tests", "backends")

root = pathlib.Path(sys.argv[1])
files = [f for folder in FOLDERS for pattern in ("*.hpp", "*.cpp", "*.h")
         for f in sorted((root / folder).rglob(pattern))]
if len(files) < 100:
    sys.exit(f"only {len(files)} C++ files found under {root}")
problems = []
for file in files:
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
        if len(line) > LIMIT and not line.startswith("// expect-"):
            problems.append(f"{file.relative_to(root)}:{number}: {len(line)} columns")
if problems:
    sys.exit(f"lines longer than {LIMIT} columns (.clang-format's limit):\n  " + "\n  ".join(problems))
print(f"{len(files)} C++ files within {LIMIT} columns")
