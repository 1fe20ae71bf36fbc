"""Server-rendered web pages (Jinja2, no JavaScript, no build step): the public catalog, ranking and tracking
pages (pages.py) and the operator console behind a login (console.py). See docs/web.md."""
