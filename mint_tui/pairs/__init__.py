"""MINT pairs: the manifest (``manifest``), ``.mintpair`` bundles (``verify``: checks on untrusted
bytes, ``bundle``: reading and writing, ``loaded``: a pair loaded to score faces) and the local pair
store (``store``). Import what you need from its module: importing the package loads nothing."""
