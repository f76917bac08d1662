"""The floor of bench/load.py: a bare Flask endpoint returning a small JSON, nothing else.

bench/load.py serves it with the very same gunicorn command line as the app (only `wsgi:app` becomes
`bench.bare_app:app`), so the ratio app / bare measures what the app adds on top of Flask and gunicorn.
"""

from flask import Flask

app = Flask(__name__)


@app.get("/bare")
def bare():
    return {"ok": True}
