"""mongoengine keeps one registry of document classes by class name for the whole
process: two services naming a document class alike would read each other's collection
in the all-in-one app (seen once: a review window of notify's read as survey's)."""

import importlib
import inspect

from mongoengine import Document


def test_no_two_services_name_a_document_class_alike():
    owners: dict[str, str] = {}
    clashes = []
    for service in ("survey", "scoring", "notify"):
        for module_name in ("documents", "review_store", "store"):
            try:
                module = importlib.import_module(f"services.{service}.{module_name}")
            except ModuleNotFoundError:
                continue
            for name, cls in inspect.getmembers(module, inspect.isclass):
                if not issubclass(cls, Document) or cls.__module__ != module.__name__:
                    continue
                if owners.setdefault(name, service) != service:
                    clashes.append((name, owners[name], service))
    assert len(owners) > 15, "the services' documents were found"
    assert clashes == []
