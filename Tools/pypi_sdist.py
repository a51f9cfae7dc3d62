#!/usr/bin/env python3
"""Download one source distribution from the package index pip is configured with, and check it.

Usage: pypi_sdist.py NAME VERSION SHA256 DEST_DIR  → prints the path of the verified .tar.gz

`pip download --no-binary` cannot be used for `basicsr`: it insists on building the package's
metadata, which needs torch and CUDA wheels. This script asks pip's own index client for the file
list instead (same index, same configuration, no build) and verifies the pinned sha256.
Uses only the standard library and pip (23.x) itself.
"""
import hashlib
import os
import sys

from pip._internal.configuration import Configuration
from pip._internal.index.collector import LinkCollector
from pip._internal.index.package_finder import PackageFinder
from pip._internal.models.index import PyPI
from pip._internal.models.search_scope import SearchScope
from pip._internal.models.selection_prefs import SelectionPreferences
from pip._internal.network.session import PipSession


def main():
    name, version, sha256, dest = sys.argv[1:5]
    os.makedirs(dest, exist_ok=True)
    configuration = Configuration(isolated=False)
    configuration.load()
    settings = dict(configuration.items())
    index = os.environ.get("PIP_INDEX_URL") or settings.get("global.index-url") or PyPI.simple_url
    session = PipSession()
    scope = SearchScope.create(find_links=[], index_urls=[index], no_index=False)
    finder = PackageFinder.create(
        link_collector=LinkCollector(session=session, search_scope=scope),
        selection_prefs=SelectionPreferences(allow_yanked=False),
    )
    links = [c.link for c in finder.find_all_candidates(name)
             if str(c.version) == version and c.link.filename.endswith(".tar.gz")]
    if not links:
        sys.exit(f"pypi_sdist: no source distribution of {name}=={version} on {index}")
    path = os.path.join(dest, links[0].filename)
    if not (os.path.exists(path) and hashlib.sha256(open(path, "rb").read()).hexdigest() == sha256):
        response = session.get(links[0].url)
        response.raise_for_status()
        data = response.content
        digest = hashlib.sha256(data).hexdigest()
        if digest != sha256:
            sys.exit(f"pypi_sdist: {links[0].filename} has sha256 {digest}, expected {sha256}")
        with open(path + ".part", "wb") as f:
            f.write(data)
        os.replace(path + ".part", path)
    print(path)


if __name__ == "__main__":
    main()
