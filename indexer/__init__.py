"""snapfit's catalog side: crawling Musinsa, images, embeddings, the vector store and sync.

Nothing here imports ``telegram``: the bot calls into this package, never the reverse.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("snapfit")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"
