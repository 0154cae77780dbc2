"""Sphinx configuration of the course website (``make site`` runs tools/build_site.py, which uses it).

The source tree is staged by tools/build_site.py in ``book/_build/src``; this folder holds only the configuration,
the static files and the two small hooks below. Everything a page loads is served from the site itself: MathJax
comes from the ``sphinx-mathjax-offline`` package (copied into ``_static/mathjax``), the theme bundles its fonts.
"""
from __future__ import annotations

from pathlib import Path

from docutils import nodes

BUILD = Path(__file__).resolve().parent / "_build"

project = "Actor-critic, measured: A2C on CartPole-v1"

extensions = ["myst_nb", "sphinx-mathjax-offline"]

# The notebooks are committed executed and nbval checks their stored outputs: show exactly those, never re-run.
nb_execution_mode = "off"
# $...$ and $$...$$ as the notebooks write them; amsmath for environments such as aligned.
myst_enable_extensions = ["dollarmath", "amsmath"]
# Lecture 07 writes a displayed formula inside a paragraph ("... interval\n$$...$$\nstays inside ..."), as Jupyter
# allows; without this MyST reads its $$ as two inline $ and the page shows TeX source.
myst_dmath_double_inline = True
# Raw HTML in the notebooks' Markdown (<details><summary>Solution</summary>) is kept as written: the browser
# folds the solutions and MathJax still typesets the mathematics inside them.

html_theme = "sphinx_book_theme"
html_title = "Actor-critic, measured"
# A favicon of the site's own: without one the browser asks for /favicon.ico, which does not exist (a 404 in the
# console of every page).
html_favicon = "_static/favicon.svg"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
# The theme's colour-mode switch reads this; unset, its script logs an error ("invalid theme mode") on every page.
html_context = {"default_mode": "light"}
html_theme_options = {
    "show_toc_level": 2,
    # Its menu offers the page's source and a print-to-PDF; each lecture page has its own notebook link instead.
    "use_download_button": False,
    "use_fullscreen_button": False,
    "home_page_in_toc": True,
    # Instead of the default author and copyright lines: what a reader needs to know about this copy.
    "footer_content_items": ["extra-footer.html"],
    "extra_footer": "<p>Built by <code>make site</code> from the executed notebooks in <code>notebooks/</code>: "
                    "the outputs shown are the stored ones that <code>make test</code> checks.</p>",
}
# The notebooks themselves are published as html/notebooks/NN_topic.ipynb (each page links its own), so Sphinx's
# copies of the sources (_sources/) would only duplicate them.
html_copy_source = False
html_show_sourcelink = False
html_extra_path = [str(BUILD / "extra")]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]


def _section_title(node: nodes.Node) -> str | None:
    """The title of the innermost section around ``node``."""
    while node is not None:
        if isinstance(node, nodes.section) and node.children and isinstance(node[0], nodes.title):
            return node[0].astext()
        node = node.parent
    return None


def add_output_alt_text(app, doctree: nodes.document, docname: str) -> None:
    """Give every notebook output image that has no alt text one that says where it comes from.

    Matplotlib figures and GIFs reach the page as bare <img> elements; a screen reader then announces only a file
    name. The cell's number, the lecture and the section it belongs to tell a reader which figure this is.
    """
    lecture = _section_title(next(iter(doctree.findall(nodes.section)), None)) or docname
    for image in doctree.findall(nodes.image):
        if image.get("alt"):
            continue
        cell = image.parent
        while isinstance(cell, nodes.Element) and cell.get("nb_element") != "cell_code":
            cell = cell.parent
        kind = "Animation" if str(image.get("uri", "")).lower().endswith(".gif") else "Figure"
        where = f"code cell {cell['cell_index'] + 1}" if isinstance(cell, nodes.Element) and "cell_index" in cell \
            else "a code cell"
        section = _section_title(image)
        image["alt"] = f"{kind} output of {where} of lecture {lecture}" + (
            f", section “{section}”" if section and section != lecture else "")


def add_notebook_link(app, doctree: nodes.document) -> None:
    """Put a link to the page's own notebook file under the title of every lecture page."""
    docname = app.env.docname
    if not docname.startswith("lectures/"):
        return
    name = docname.split("/", 1)[1] + ".ipynb"
    first_section = next(iter(doctree.findall(nodes.section)), None)
    if first_section is None:
        return
    link = nodes.reference("", name, refuri=f"../notebooks/{name}", internal=False)
    paragraph = nodes.paragraph("", "", nodes.Text("Notebook: "), link,
                                nodes.Text(" (the file this page shows, outputs included; open it in Jupyter)"),
                                classes=["notebook-link"])
    first_section.insert(1, paragraph)


def setup(app):
    app.connect("doctree-read", add_notebook_link)
    app.connect("doctree-resolved", add_output_alt_text)
