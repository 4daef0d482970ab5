"""`vodfleet preview`: serve an output folder on loopback with a page that plays it in real players.

    route.py      request path → what to send (a file under OUT, a page asset, a player library, a redirect,
                  or a refusal); pure apart from the final containment check on disk
    byterange.py  the HTTP ``Range`` header → one byte range (pure)
    mime.py       file name → Content-Type (pure)
    library.py    where the npm-installed player libraries are (hls.js, Shaka Player); missing → a clear error
    site.py       what one preview serves: the output folder, the page, the libraries (validated up front)
    server.py     the stdlib HTTP server around them (GET/HEAD, 206 ranges, no listings)
    static/       the page: HTML, JS and CSS, served under ``/_vodfleet/`` so it never collides with output files
"""
