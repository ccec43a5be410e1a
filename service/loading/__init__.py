"""Reading and validating data files, and the clients of public upstream APIs."""

from service.loading.files import content_hash, dump_model_file, load_catalogue, load_rules

__all__ = ["content_hash", "dump_model_file", "load_catalogue", "load_rules"]
