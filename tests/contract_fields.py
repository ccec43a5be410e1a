"""The field names the public contract (the design's request sketch and resources) fixes."""

MODEL_FIELDS = [
    "id",
    "name",
    "family",
    "organisation",
    "origin_country",
    "licence",
    "parameters_total_b",
    "parameters_active_b",
    "context_tokens",
    "released",
]
LICENCE_FIELDS = ["id", "name", "kind", "commercial_use"]
ANSWER_FIELDS = ["id", "catalogue_version", "rules_version", "recommendations", "excluded"]
RECOMMENDATION_FIELDS = ["rank", "model_id", "score", "reasons", "criteria", "obligations", "fit", "caveats"]
