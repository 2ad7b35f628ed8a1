"""Internal link check of the built HTML docs: every relative link points to a page that was built
and, when it names an anchor, to an id on that page. External links are not fetched (no network in
CI). Usage: python scripts/check_docs_links.py docs/_build/html"""

from __future__ import annotations

import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("id", "name") and value:
                self.ids.add(value)
            if value and ((tag == "a" and name == "href") or (tag in ("img", "script") and name == "src")):
                self.links.append(value)
            if value and tag == "link" and name == "href":
                self.links.append(value)


def broken_links(site: Path) -> list[str]:
    """Every relative link of every built page whose file or anchor is missing, as 'page: link'."""
    pages: dict[Path, _Page] = {}
    for path in sorted(site.rglob("*.html")):
        parser = _Page()
        parser.feed(path.read_text(encoding="utf-8"))
        pages[path.resolve()] = parser
    problems = []
    for path, page in pages.items():
        for link in page.links:
            if urlsplit(link).scheme or link.startswith(("//", "mailto:")):
                continue  # external: not fetched
            target, anchor = urldefrag(link)
            target = urlsplit(target).path  # without ?v=... cache busters
            file = (path.parent / unquote(target)).resolve() if target else path
            if file.is_dir():
                file = file / "index.html"
            if not file.exists():
                problems.append(f"{path.relative_to(site.resolve())}: {link} (no such file)")
            elif anchor and file.suffix == ".html" and unquote(anchor) not in pages[file].ids:
                problems.append(f"{path.relative_to(site.resolve())}: {link} (no such anchor)")
    return problems


def main(argv: list[str]) -> int:
    site = Path(argv[1] if len(argv) > 1 else "docs/_build/html")
    if not (site / "index.html").exists():
        print(f"no built site at {site}", file=sys.stderr)
        return 2
    problems = broken_links(site)
    for problem in problems:
        print(problem, file=sys.stderr)
    count = sum(1 for _ in site.rglob("*.html"))
    print(f">> internal links: {count} pages checked, {len(problems)} broken")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
