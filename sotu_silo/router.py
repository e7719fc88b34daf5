"""Keeps every sotu-silo model in the "sotu" database, and nothing else there."""

SILO_APP = "sotu_silo"
SILO_DATABASE = "sotu"


class SotuSiloRouter:
    def db_for_read(self, model, **hints):
        return SILO_DATABASE if model._meta.app_label == SILO_APP else None

    db_for_write = db_for_read

    def allow_relation(self, obj1, obj2, **hints):
        # No relation may cross the silo's border; the silo links to patrons by id only.
        in_silo = {obj._meta.app_label == SILO_APP for obj in (obj1, obj2)}
        return False if len(in_silo) == 2 else None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if app_label == SILO_APP:
            return db == SILO_DATABASE
        return db != SILO_DATABASE
