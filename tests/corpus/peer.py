#!/usr/bin/env python3
"""Runs kubernetes-validate (strict mode) over many files in one process and
prints one tab-separated line per document: FILE, INDEX, RESULT, MESSAGE, where
RESULT is `valid`, `invalid` (a schema error, or a document it cannot validate
at all, as its CLI counts it) or `noschema` (it only warns).

This calls kubernetes_validate.utils.validate, the function its CLI calls, with
strict=True. The CLI itself is not used because it aborts the whole run on an
invalid document without `metadata.name` (its error report reads the name and
raises KeyError), and the corpus has such documents.

    .tools/venv/bin/python tests/corpus/peer.py 1.37 FILE...
"""

import sys

import yaml
from kubernetes_validate import utils


def main():
    version, files = sys.argv[1], sys.argv[2:]
    for path in files:
        with open(path) as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        for i, doc in enumerate(docs):
            try:
                utils.validate(doc, version, strict=True)
                result, message = "valid", ""
            except utils.ValidationError as e:
                where = ".".join(str(p) for p in e.path)
                result, message = "invalid", f"{where}: {e.message}"
            except utils.SchemaNotFoundError as e:
                result, message = "noschema", e.message
            except Exception as e:  # the CLI reports these as errors too
                result, message = "invalid", f"could not be validated: {type(e).__name__}: {e}"
            message = " ".join(message.split())[:300]
            print(f"{path}\t{i}\t{result}\t{message}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
