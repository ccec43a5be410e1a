"""Load the catalogue and rules directories into validated domain objects.

Every problem in every file is collected before failing, so one run shows them all, each with the file
path, the field and what was wrong. A model's id comes from its path: ``models/<owner>/<name>.toml``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, TypeVar

import rtoml
import tomli_w
from pydantic import BaseModel, ValidationError

from service.domain.catalogue import (
    Catalogue,
    Model,
    ModelFile,
    Organisation,
    OrganisationFile,
    Provider,
    ProviderFile,
)
from service.domain.errors import DataError
from service.domain.hardware import Gpu
from service.domain.measurements import Benchmark, Leaderboard
from service.domain.regulatory import Jurisdiction, RegulatoryPolicy
from service.domain.rules import (
    Criterion,
    EligibilityRule,
    HardwarePolicy,
    Licence,
    Policy,
    Profile,
    RuleSet,
)

__all__ = [
    "DataFiles",
    "content_hash",
    "dump_model_file",
    "dump_organisation_file",
    "dump_provider_file",
    "load_benchmarks",
    "load_catalogue",
    "load_rules",
    "model_path",
    "provider_path",
    "read_toml",
]

M = TypeVar("M", bound=BaseModel)
Problems = list[tuple[str, str, str]]
_SINGLE_RULES_FILES = ("hardware.toml", "policy.toml", "regulatory.toml")


def read_toml(path: Path) -> dict[str, Any]:
    """Parse one TOML file; a syntax error becomes a :class:`DataError` naming the file.

    The parser is rtoml (compiled): the standard library's pure-Python parser was a third of the start-up time
    at 10,000 models. Both give the same values of the same types for every shipped file (a test holds it).
    """
    return _parse_toml(path, path.read_bytes())


def _share(record: BaseModel, pool: dict[object, Any]) -> None:
    """Replace every string and date a validated record holds (at any depth) by the equal one ``pool`` already
    holds (or add it), and give every frozen record under it the equal set of field names ``pool`` holds.

    Files repeat the same source URLs, notes and dates many times (every fact of a model cites a handful of
    pages), and the records keep the parser's objects: sharing equal values keeps one copy of each (at 10,000
    model files about 60 MB less). Pydantic also keeps, per record, the set of the names of its fields the data
    gave (``model_fields_set``): 10,000 model files hold about 170,000 records (facts, measurements, offers) but
    only about a hundred distinct such sets, and a set is larger than the record's own fields (one copy of each
    is 100 MB less). A frozen record never changes its set (a copy gets its own), so sharing it changes nothing
    else. Values are equal either way; only their count changes. One pass over the records does both.
    """
    setdefault = pool.setdefault
    date = dt.date
    pending: list[Any] = [record]
    pop, push = pending.pop, pending.append
    while pending:
        node = pop()
        items: Any
        if isinstance(node, BaseModel):
            if node.model_config.get("frozen"):
                fields = node.__pydantic_fields_set__
                shared = setdefault(frozenset(fields), fields)
                if shared is not fields:
                    object.__setattr__(node, "__pydantic_fields_set__", shared)
            items = node.__dict__
            entries: Iterable[tuple[Any, Any]] = items.items()
        elif type(node) is list:
            items = node
            entries = enumerate(node)
        elif type(node) is dict:
            items = node
            entries = node.items()
        else:
            continue
        for key, value in entries:
            kind = type(value)
            if kind is str or kind is date:
                items[key] = setdefault(value, value)
            elif kind is not int and kind is not float and kind is not bool and value is not None:
                push(value)


def _parse_toml(path: Path | _FilePath, content: bytes) -> dict[str, Any]:
    try:
        # Decoded as a text file is read (universal newlines), so a CRLF file parses as it always did.
        text = content.decode("utf-8")
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        data: dict[str, Any] = rtoml.loads(text)
    except (rtoml.TomlParsingError, UnicodeDecodeError) as exc:
        raise DataError([(str(path), "(file)", f"not valid TOML: {exc}")]) from exc
    return data


@dataclass(frozen=True)
class DataFiles:
    """Every ``*.toml`` file under a data directory, read once: the loaders parse these bytes and the version
    digest is computed from the same bytes, so what was loaded is exactly what the digest names.

    ``files`` holds (relative POSIX path, bytes) pairs in path order (part by part, so ``a/b`` comes before
    ``a-b/c``) and ``digest`` is :func:`content_hash` of them.
    """

    directory: Path
    files: tuple[tuple[str, bytes], ...]
    digest: str

    @classmethod
    def read(cls, directory: Path) -> DataFiles:
        """Read every ``*.toml`` file under ``directory`` (the files :func:`content_hash` covers): at any depth,
        in directories that are not symbolic links (as ``Path.rglob`` walks them)."""
        found: list[tuple[str, str]] = []
        root = os.fspath(directory)
        for folder, _, names in os.walk(root):
            prefix = os.path.relpath(folder, root).replace(os.sep, "/")
            prefix = "" if prefix == "." else prefix + "/"
            found.extend((prefix + name, os.path.join(folder, name)) for name in names if name.endswith(".toml"))
        # Path order is the order of the parts: sort on the split relative path, not on Path objects (10,000
        # files are sorted in a few milliseconds).
        found.sort(key=lambda item: item[0].split("/"))
        contents = []
        for _, location in found:
            with open(location, "rb") as handle:
                contents.append(handle.read())
        files = tuple((relative, content) for (relative, _), content in zip(found, contents, strict=True))
        digest = hashlib.sha256()
        for relative, content in files:
            digest.update(relative.encode())
            digest.update(b"\0")
            digest.update(content)
            digest.update(b"\0")
        return cls(directory=directory, files=files, digest="sha256:" + digest.hexdigest())

    def matching(self, pattern: str) -> Iterator[tuple[list[str], bytes]]:
        """Each file whose relative path matches ``pattern`` part by part (``*`` within one part, as a glob),
        in path order, with the parts of its relative path and its bytes."""
        wanted = pattern.split("/")
        for relative, content in self.files:
            parts = relative.split("/")
            if len(parts) == len(wanted) and all(
                w == "*" or fnmatchcase(p, w) for p, w in zip(parts, wanted, strict=True)
            ):
                yield parts, content

    def has(self, relative: str) -> bool:
        """Whether a file with this relative POSIX path was read."""
        return any(name == relative for name, _ in self.files)


class _FilePath:
    """A data file's path, made only when a problem names it (10,000 Path objects cost a tenth of a second)."""

    def __init__(self, directory: Path, relative: str) -> None:
        self.directory, self.relative = directory, relative

    def __str__(self) -> str:
        return str(self.directory / self.relative)


def _stem(name: str) -> str:
    """``Path(name).stem``: the name without its last suffix (a name starting with its only dot has none)."""
    dot = name.rfind(".")
    return name[:dot] if 0 < dot < len(name) - 1 else name


def _files(directory: Path | DataFiles) -> DataFiles:
    return directory if isinstance(directory, DataFiles) else DataFiles.read(directory)


def _validate(cls: type[M], path: Path | _FilePath, data: dict[str, Any], problems: Problems) -> M | None:
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"]) or "(file)"
            problems.append((str(path), field, error["msg"]))
        return None


def _load_dir(
    data: DataFiles,
    pattern: str,
    cls: type[M],
    problems: Problems,
    id_of: Callable[[list[str]], str],
    pool: dict[object, Any] | None = None,
) -> dict[str, M]:
    """Every file matching ``pattern`` validated as ``cls``, by the id ``id_of`` makes of its path's parts.
    With ``pool``, equal strings, dates and sets of field names across the files are one object each (see
    :func:`_share`)."""
    loaded: dict[str, M] = {}
    for parts, content in data.matching(pattern):
        path = _FilePath(data.directory, "/".join(parts))
        try:
            parsed = _parse_toml(path, content)
        except DataError as exc:
            problems.extend(exc.problems)
            continue
        record_id = id_of(parts)
        if "id" in parsed:
            problems.append((str(path), "id", "is derived from the file path and must not be set in the file"))
            continue
        parsed["id"] = record_id
        record = _validate(cls, path, parsed, problems)
        if record is not None:
            if pool is not None:
                _share(record, pool)
            loaded[record_id] = record
    return loaded


def _by_stem(parts: list[str]) -> str:
    return _stem(parts[-1])


def _by_owner_and_stem(parts: list[str]) -> str:
    return f"{parts[-2]}/{_stem(parts[-1])}"


def model_path(catalogue_dir: Path, model_id: str) -> Path:
    """Where the file of a model id lives."""
    owner, name = model_id.split("/", 1)
    return catalogue_dir / "models" / owner / f"{name}.toml"


def load_benchmarks(rules_dir: Path | DataFiles) -> dict[str, Benchmark]:
    """Load the benchmark-variant registry ``rules_dir/benchmarks/*.toml`` (id = file stem)."""
    problems: Problems = []
    benchmarks = _load_dir(_files(rules_dir), "benchmarks/*.toml", Benchmark, problems, _by_stem)
    if problems:
        raise DataError(problems)
    return benchmarks


def _check_measurements(
    directory: Path,
    models: Mapping[str, Model],
    leaderboards: Mapping[str, Leaderboard],
    benchmarks: Mapping[str, Benchmark],
    problems: Problems,
) -> None:
    """Every measurement names a known benchmark variant and a value its scale allows."""

    def check(path: Path | _FilePath, field: str, benchmark_id: str, values: list[tuple[str, float]]) -> None:
        benchmark = benchmarks.get(benchmark_id)
        if benchmark is None:
            problems.append(
                (str(path), field, f"unknown benchmark {benchmark_id!r}: add rules/benchmarks/{benchmark_id}.toml")
            )
            return
        for value_field, value in values:
            problem = benchmark.out_of_range(value)
            if problem:
                problems.append((str(path), value_field, problem))

    get = benchmarks.get
    for model_id, model in models.items():
        for i, measurement in enumerate(model.measurements):
            benchmark = get(measurement.benchmark)
            if benchmark is not None and benchmark.out_of_range(measurement.value) is None:
                continue  # the commonest case, told without building the names a problem would need
            check(
                _FilePath(directory, f"models/{model_id}.toml"),
                f"measurements.{i}.benchmark",
                measurement.benchmark,
                [(f"measurements.{i}.value", measurement.value)],
            )
    for snapshot_id, board in leaderboards.items():
        path = directory / "leaderboards" / f"{snapshot_id}.toml"
        check(
            path, "benchmark", board.benchmark, [(f"entries.{i}.value", e.value) for i, e in enumerate(board.entries)]
        )


def provider_path(catalogue_dir: Path, provider_id: str) -> Path:
    """Where the file of a provider id lives."""
    return catalogue_dir / "providers" / f"{provider_id}.toml"


def _model_file_exists(data: DataFiles, model_id: str) -> bool:
    return "/" in model_id and data.has(f"models/{model_id}.toml")


def load_catalogue(directory: Path | DataFiles, benchmarks: Mapping[str, Benchmark] | None = None) -> Catalogue:
    """Load and cross-check ``models/``, ``organisations/``, ``leaderboards/`` and ``providers/`` under
    ``directory``.

    With ``benchmarks`` (the registry from :func:`load_benchmarks`), every measurement's benchmark id and
    value are checked against it too. Every offer must name a catalogue model, and a provider that is a
    developer's own API must name a catalogue organisation; a problem is reported with the provider file and
    the offer's index. ``directory`` may be given as the files already read from it (:class:`DataFiles`).
    """
    problems: Problems = []
    directory_path = directory.directory if isinstance(directory, DataFiles) else directory
    if not (directory_path / "models").is_dir():
        raise DataError([(str(directory_path), "(directory)", "has no models/ folder")])
    data = _files(directory)
    root = data.directory
    pool: dict[object, Any] = {}
    organisations = _load_dir(data, "organisations/*.toml", Organisation, problems, _by_stem, pool)
    models = _load_dir(data, "models/*/*.toml", Model, problems, _by_owner_and_stem, pool)
    leaderboards = _load_dir(data, "leaderboards/*.toml", Leaderboard, problems, _by_stem, pool)
    for model_id, model in models.items():
        if model.organisation not in organisations:
            problems.append(
                (
                    str(model_path(root, model_id)),
                    "organisation",
                    f"unknown organisation {model.organisation!r}",
                )
            )
    # A model file that exists but failed validation is already reported; snapshots naming it are not.
    model_files = {_by_owner_and_stem(parts) for parts, _ in data.matching("models/*/*.toml")}
    for snapshot_id, board in leaderboards.items():
        for i, entry in enumerate(board.entries):
            if entry.model not in model_files:
                problems.append(
                    (
                        str(root / "leaderboards" / f"{snapshot_id}.toml"),
                        f"entries.{i}.model",
                        f"unknown model id {entry.model!r}: no catalogue/models/{entry.model}.toml",
                    )
                )
    if benchmarks is not None:
        _check_measurements(root, models, leaderboards, benchmarks, problems)
    providers = _load_dir(data, "providers/*.toml", Provider, problems, _by_stem, pool)
    for provider_id, provider in providers.items():
        path = str(provider_path(root, provider_id))
        if provider.organisation is not None and provider.organisation not in organisations:
            problems.append((path, "organisation", f"unknown organisation {provider.organisation!r}"))
        for k, offer in enumerate(provider.offers):
            # A model whose file exists but failed validation is already reported; only a missing file is.
            if offer.model not in models and not _model_file_exists(data, offer.model):
                problems.append((path, f"offers.{k}.model", f"unknown model {offer.model!r} (no catalogue file)"))
    if problems:
        raise DataError(problems)
    return Catalogue(models=models, organisations=organisations, leaderboards=leaderboards, providers=providers)


def load_rules(directory: Path | DataFiles, licence_ids_in_use: Iterable[str] = ()) -> RuleSet:
    """Load every rules file under ``directory`` (or the files already read from it) and check that each
    licence the catalogue uses exists."""
    problems: Problems = []
    data = _files(directory)
    root = data.directory
    by_id = _by_stem
    licences = _load_dir(data, "licences/*.toml", Licence, problems, by_id)
    eligibility = _load_dir(data, "eligibility/*.toml", EligibilityRule, problems, by_id)
    criteria = _load_dir(data, "criteria/*.toml", Criterion, problems, by_id)
    profiles = _load_dir(data, "profiles/*.toml", Profile, problems, by_id)
    jurisdictions = _load_dir(data, "jurisdictions/*.toml", Jurisdiction, problems, by_id)
    benchmarks = _load_dir(data, "benchmarks/*.toml", Benchmark, problems, by_id)
    gpus = _load_dir(data, "gpus/*.toml", Gpu, problems, by_id)
    single = {name: content for name, content in data.files if name in _SINGLE_RULES_FILES}
    for name in _SINGLE_RULES_FILES:
        if name not in single:
            problems.append((str(root / name), "(file)", "missing"))
    hardware = policy = regulatory = None
    if not problems:
        parsed = {name: _parse_toml(root / name, content) for name, content in single.items()}
        hardware = _validate(HardwarePolicy, root / "hardware.toml", parsed["hardware.toml"], problems)
        policy = _validate(Policy, root / "policy.toml", parsed["policy.toml"], problems)
        regulatory = _validate(RegulatoryPolicy, root / "regulatory.toml", parsed["regulatory.toml"], problems)
    for licence_id in sorted(set(licence_ids_in_use) - set(licences)):
        problems.append(
            (
                str(root / "licences" / f"{licence_id}.toml"),
                "(file)",
                "licence used by the catalogue has no file",
            )
        )
    if problems or hardware is None or policy is None or regulatory is None:
        raise DataError(problems)
    try:
        return RuleSet(
            licences=licences,
            eligibility=eligibility,
            criteria=criteria,
            profiles=profiles,
            hardware=hardware,
            policy=policy,
            regulatory=regulatory,
            jurisdictions=jurisdictions,
            benchmarks=benchmarks,
            gpus=gpus,
        )
    except ValidationError as exc:
        raise DataError([(str(root), "(rules)", e["msg"]) for e in exc.errors()]) from exc


def content_hash(directory: Path) -> str:
    """SHA-256 over every TOML file's relative path and bytes, in path order: the version of a data directory."""
    return DataFiles.read(directory).digest


def dump_model_file(model: ModelFile) -> str:
    """The canonical TOML text of a model file (the id is not written: it is the path)."""
    data = ModelFile.model_validate(model.model_dump(exclude={"id"})).model_dump(mode="python", exclude_none=True)
    for key in ("measurements", "adoption"):
        if not data.get(key):
            data.pop(key, None)
    return tomli_w.dumps(data)


def dump_leaderboard_file(board: Leaderboard) -> str:
    """The canonical TOML text of a leaderboard snapshot file (the id is not written: it is the path)."""
    return tomli_w.dumps(board.model_dump(mode="python", exclude={"id"}, exclude_none=True))


def dump_organisation_file(organisation: OrganisationFile) -> str:
    """The canonical TOML text of an organisation file."""
    data = OrganisationFile.model_validate(organisation.model_dump(exclude={"id"})).model_dump(exclude_none=True)
    if not data.get("provenance_allegations"):
        data.pop("provenance_allegations", None)
    return tomli_w.dumps(data)


def dump_provider_file(provider: ProviderFile) -> str:
    """The canonical TOML text of a provider file: offers sorted by model, then status and basis."""
    data = ProviderFile.model_validate(provider.model_dump(exclude={"id"})).model_dump(exclude_none=True)
    order = {"active": 0, "superseded": 1, "retired": 2}
    data["offers"] = sorted(
        data.get("offers", []),
        key=lambda o: (o["model"], order[o["status"]], o["price_basis"], o["as_of"], o.get("quantisation", "")),
    )
    if not data["offers"]:
        data.pop("offers")
    return tomli_w.dumps(data)
