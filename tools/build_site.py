"""Build the course as a static website from the committed, executed notebooks (``make site``).

Usage: python tools/build_site.py [--out DIR]

Nothing is executed: the outputs stored in ``notebooks/*.ipynb`` (the ones nbval checks) are the outputs shown. The
build stages a Sphinx source tree in ``book/_build/src``:

- ``index.md``, the landing page, generated from README.md (its overview, the lecture table and "Two commands") and
  from the provenance each ``data/*.json`` sidecar records (command, seeds, git commit, date, CPU path);
- ``lectures/NN_topic.ipynb``, copies of the notebooks, rendered by myst-nb (``book/conf.py``);
- the same notebooks again as plain files, so each lecture page's download link resolves on the site itself.

and runs Sphinx with warnings as errors into ``book/_build/html``. Every script, style and font (MathJax included)
is served from the site itself; ``tests/site/`` checks that in a real browser (``make test-site``).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BOOK = REPO / "book"
BUILD = BOOK / "_build"
SRC = BUILD / "src"
NOTEBOOK_GLOB = "[0-9][0-9]*_*.ipynb"
# The modules the build imports, and the pip names that provide them (requirements-site.txt pins them).
SITE_MODULES = {"sphinx": "Sphinx", "myst_nb": "myst-nb", "sphinx_book_theme": "sphinx-book-theme",
                "sphinx-mathjax-offline": "sphinx-mathjax-offline"}


class SiteError(Exception):
    """A problem the user can fix; main() prints it as one line."""


# ---------------------------------------------------------------------------------------------------------- inputs

def check_dependencies() -> None:
    import importlib.util

    missing = [pip for module, pip in SITE_MODULES.items() if importlib.util.find_spec(module) is None]
    if missing:
        raise SiteError(f"missing {', '.join(missing)}: run `make site`, which installs requirements-site.txt "
                        f"into .venv (or `pip install -r requirements-site.txt`)")


def lecture_notebooks() -> list[Path]:
    """Every lecture notebook, each checked to be executed: the site shows stored outputs and never runs a cell."""
    notebooks = sorted((REPO / "notebooks").glob(NOTEBOOK_GLOB))
    if not notebooks:
        raise SiteError("no lecture notebooks in notebooks/ (NN_topic.ipynb): nothing to build")
    for path in notebooks:
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
            cells = nb["cells"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SiteError(f"{path.relative_to(REPO)} is not a readable notebook ({exc}): restore it with git") from exc
        unexecuted = [i for i, cell in enumerate(cells)
                      if cell.get("cell_type") == "code" and cell.get("execution_count") is None]
        if unexecuted:
            raise SiteError(f"{path.relative_to(REPO)} has {len(unexecuted)} unexecuted code cell(s) (first: cell "
                            f"{unexecuted[0]}): run `make lectures` first; the site shows stored outputs")
    return notebooks


def notebook_title(path: Path) -> str:
    """The notebook's first Markdown heading (what Sphinx will use as the page title)."""
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "markdown":
            match = re.search(r"^#\s+(.+)$", "".join(cell["source"]), re.MULTILINE)
            if match:
                return match.group(1).strip()
    raise SiteError(f"{path.relative_to(REPO)} has no '# title' heading: the site needs one for its page title")


def readme_sections(readme: str) -> tuple[str, str, dict[str, str]]:
    """The README's title, the overview under it, and each '## ' section's body by heading."""
    title_match = re.match(r"#\s+(.+)\n", readme)
    if not title_match:
        raise SiteError("README.md does not start with a '# title' line: the landing page takes its title from it")
    parts = re.split(r"^## +(.+)$", readme[title_match.end():], flags=re.MULTILINE)
    sections = {heading.strip(): body.strip() for heading, body in zip(parts[1::2], parts[2::2], strict=True)}
    return title_match.group(1).strip(), parts[0].strip(), sections


def readme_section(sections: dict[str, str], heading: str) -> str:
    if heading not in sections:
        raise SiteError(f"README.md has no '## {heading}' section: the landing page is made from it")
    return sections[heading]


def lecture_descriptions(section: str) -> dict[str, str]:
    """README's lecture table as {notebook stem: what it teaches}."""
    rows = re.findall(r"^\|\s*`(\d\d[a-z]?_[^`]+)`\s*\|\s*(.+?)\s*\|\s*$", section, flags=re.MULTILINE)
    return dict(rows)


# ---------------------------------------------------------------------------------------------------- landing page

def md_text(value: object) -> str:
    """Sidecar text as literal Markdown: no character of it may start emphasis, math, a link or a table cell."""
    return re.sub(r"([\\`*_$\[\]<>|#])", r"\\\1", str(value))


def seed_ranges(seeds: list[int]) -> str:
    """[0, 1, 2, 5, 6] -> '0-2, 5-6' (10 seeds in a row read better as one range)."""
    spans: list[list[int]] = []
    for seed in sorted(seeds):
        if spans and seed == spans[-1][1] + 1:
            spans[-1][1] = seed
        else:
            spans.append([seed, seed])
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in spans)


def data_section(data_dir: Path) -> str:
    """One subsection per data set, every fact read from its sidecar at build time."""
    sidecars = sorted(data_dir.glob("*.json"))
    if not sidecars:
        raise SiteError(f"no data sidecars in {data_dir.relative_to(REPO)}/: the landing page lists the data sets "
                        f"from them (make data)")
    out = ["The lectures load results that take minutes to compute from `data/`, made by this project's own code. "
           "What follows is read from each data set's sidecar (`data/NAME.json`) when the site is built."]
    for path in sidecars:
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
            cpu = meta["cpu_path"]
            lines = [
                f"### {md_text(meta['name'])}",
                "",
                md_text(meta["description"]),
                "",
                f"- **Rows:** {meta['rows']:,} in `{meta['file']}` (SHA-256 `{meta['sha256'][:16]}…`)",
                f"- **Seeds:** {seed_ranges(meta['seeds'])} ({len(meta['seeds'])} seeds); "
                f"**configurations:** {', '.join(md_text(name) for name in meta['configs'])}",
                f"- **Made by:** `{meta['command']}` (remake: `{meta['rebuild']}`)",
                f"- **Git commit:** `{meta['git_commit']}`, **date:** {md_text(meta['date'])}",
                f"- **CPU path:** {md_text(cpu['machine'])}, {md_text(cpu['cpu_model'])}; OpenBLAS core "
                f"{md_text(cpu['openblas_core'])}; NumPy SIMD {md_text(cpu['numpy_simd'])}; torch CPU capability "
                f"{md_text(cpu['torch_cpu_capability'])}; forced by {md_text(cpu['forced_by'])}",
                "- **Versions:** " + ", ".join(f"{md_text(k)} {md_text(v)}" for k, v in meta["versions"].items()),
            ]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SiteError(f"{path.relative_to(REPO)} is not a complete data sidecar (missing or bad {exc}): "
                            f"remake it with `make data {path.stem}`") from exc
        out += ["", *lines]
    return "\n".join(out)


def landing_page(notebooks: list[Path]) -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    title, overview, sections = readme_sections(readme)
    described = lecture_descriptions(readme_section(sections, "The lectures"))
    missing = sorted(set(described) - {path.stem for path in notebooks})
    if missing:
        raise SiteError(f"README.md's lecture table lists {', '.join(missing)}, but notebooks/{missing[0]}.ipynb is "
                        f"missing: restore it (git checkout notebooks/{missing[0]}.ipynb) or remove its row")
    rows = []
    for path in notebooks:
        if path.stem not in described:
            raise SiteError(f"README.md's table under '## The lectures' has no row for notebooks/{path.name}: add "
                            f"one (the landing page's lecture table is made from it)")
        rows.append(f"| [{md_text(notebook_title(path))}](lectures/{path.stem}.ipynb) | {described[path.stem]} |")
    return "\n".join([
        f"# {title}",
        "",
        overview,
        "",
        "## The lectures",
        "",
        "| lecture | what it teaches |",
        "|---|---|",
        *rows,
        "",
        "Each lecture page shows the notebook's stored outputs, the very ones `make test` checks, and links to the "
        "notebook file itself. Exercise solutions stay folded until you open them.",
        "",
        "```{toctree}",
        ":hidden:",
        ":maxdepth: 1",
        "",
        *[f"lectures/{path.stem}" for path in notebooks],
        "```",
        "",
        "## Run it locally",
        "",
        readme_section(sections, "Two commands"),
        "",
        "This website is built from the executed notebooks by `make site` and can be viewed with "
        "`python -m http.server -d book/_build/html` (then open <http://localhost:8000/>).",
        "",
        "## Data sets",
        "",
        data_section(REPO / "data"),
        "",
    ])


# ----------------------------------------------------------------------------------------------------------- build

def write_if_changed(path: Path, text: str) -> None:
    """Leave an unchanged file's timestamp alone, so Sphinx rebuilds only what changed."""
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def sync_files(sources: list[Path], folder: Path) -> None:
    """Copy ``sources`` into ``folder`` (timestamps kept) and remove what is no longer among them."""
    folder.mkdir(parents=True, exist_ok=True)
    names = {path.name for path in sources}
    for stale in folder.iterdir():
        if stale.name not in names:
            stale.unlink()
    for path in sources:
        target = folder / path.name
        if not target.exists() or target.read_bytes() != path.read_bytes():
            shutil.copy2(path, target)


def stage(notebooks: list[Path]) -> None:
    write_if_changed(SRC / "index.md", landing_page(notebooks))
    sync_files(notebooks, SRC / "lectures")
    sync_files(notebooks, BUILD / "extra" / "notebooks")  # copied to html/notebooks/ (conf.py's html_extra_path)


def build(out: Path) -> None:
    from sphinx.cmd.build import build_main

    # -W --keep-going: every warning (a broken cross-reference, an output myst-nb cannot show) fails the build,
    # after all of them are reported. -q: only warnings and errors are printed.
    args = ["-b", "html", "-c", str(BOOK), "-d", str(BUILD / "doctrees"), "-W", "--keep-going", "-q",
            str(SRC), str(out)]
    if build_main(args) != 0:
        raise SiteError("Sphinx reported the problems above; the site was not built")


def prune_stale_pages(out: Path, notebooks: list[Path]) -> None:
    """Remove pages and notebook copies of lectures that no longer exist: Sphinx builds incrementally and leaves the
    output of a deleted or renamed source behind, which the site would still serve (and link-check)."""
    current = {path.stem for path in notebooks}
    for folder, suffix in ((out / "lectures", ".html"), (out / "notebooks", ".ipynb"), (out / "_sources" / "lectures", "")):
        if folder.is_dir():
            for stale in folder.iterdir():
                if stale.is_file() and stale.name.endswith(suffix) and stale.name.split(".")[0] not in current:
                    stale.unlink()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=BUILD / "html", help="output folder (book/_build/html)")
    args = parser.parse_args()
    start = time.perf_counter()
    try:
        check_dependencies()
        notebooks = lecture_notebooks()
        stage(notebooks)
        build(args.out.resolve())
        prune_stale_pages(args.out.resolve(), notebooks)
    except SiteError as exc:
        print(f"make site: {exc}", file=sys.stderr)
        return 1
    shown = os.path.relpath(args.out)
    print(f"site: {len(notebooks)} lectures built into {shown} in {time.perf_counter() - start:.1f} s; "
          f"view it with: python -m http.server -d {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
