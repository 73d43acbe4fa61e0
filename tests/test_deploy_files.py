"""The deployment files, checked without Docker: the Dockerfile's instructions, the compose file's
references, the variables and settings keys they use, Qdrant's health probe, and docs/operations.md
against all of them.

No Docker engine runs where the tests run, so nothing here builds the image or starts the stack;
``test_docker_compose_config_accepts_the_file`` asks ``docker compose config`` when Docker exists.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from bot.cli import app as cli
from bot.search_metrics import SEARCH_METRIC_NAMES
from indexer.config import ConfigError, DataSettings, MetricsSettings, Settings, StoreSettings, load_settings
from indexer.monitoring import METRIC_NAMES

REPO = Path(__file__).resolve().parent.parent
DOCKERFILE = REPO / "Dockerfile"
COMPOSE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
OPERATIONS = REPO / "docs" / "operations.md"
SNAPFIT_SERVICES = ("bot", "indexer")
QDRANT_SERVICES = ("qdrant", "qdrant-node-2", "qdrant-node-3")


# ------------------------------------------------------------------------------------ Dockerfile


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per logical line: comments dropped, continuations joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical = pending + line
        pending = ""
        keyword, _, rest = logical.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    assert not pending, "the Dockerfile ends inside a continuation"
    return instructions


def arguments(keyword: str) -> list[str]:
    return [rest for instruction, rest in dockerfile() if instruction == keyword]


def build_args() -> dict[str, str]:
    found = {}
    for rest in arguments("ARG"):
        name, _, default = rest.partition("=")
        found[name] = default.strip('"')
    return found


def env_pairs(rest: str) -> dict[str, str]:
    return dict(re.findall(r'(\w+)=("[^"]*"|\S+)', rest))


def test_base_image_is_slim_python_311_or_newer_pinned_to_a_full_version() -> None:
    (base,) = arguments("FROM")
    assert base == "python:${PYTHON_VERSION}-slim-bookworm"
    # major.minor.patch: a rebuild gets the same Python, not whatever 3.11 is newest that day.
    assert re.fullmatch(r"\d+\.\d+\.\d+", build_args()["PYTHON_VERSION"])
    major, minor, _ = (int(part) for part in build_args()["PYTHON_VERSION"].split("."))
    assert (major, minor) >= (3, 11)


def test_torch_comes_from_the_cpu_index_unless_the_build_argument_says_otherwise() -> None:
    assert build_args()["TORCH_INDEX_URL"] == "https://download.pytorch.org/whl/cpu"
    runs = arguments("RUN")
    torch = next(i for i, run in enumerate(runs) if '"torch==' in run)
    assert '--index-url "${TORCH_INDEX_URL}"' in runs[torch]
    package = next(i for i, run in enumerate(runs) if re.search(r"pip install (--no-deps )?\"?\.", run))
    assert torch < package, "torch must be installed before snapfit, or pip takes the CUDA wheel from PyPI"


def test_torch_and_torchvision_are_pinned_build_arguments() -> None:
    args = build_args()
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    for name, package in (("TORCH_VERSION", "torch"), ("TORCHVISION_VERSION", "torchvision")):
        assert re.fullmatch(r"\d+\.\d+\.\d+", args[name]), f"{name}: pin a full version"
        required = next(d for d in pyproject["project"]["dependencies"] if re.match(rf"{package}\W", d))
        floor = re.search(r">=([\d.]+)", required).group(1)  # type: ignore[union-attr]
        pinned = tuple(int(part) for part in args[name].split("."))
        assert pinned >= tuple(int(part) for part in floor.split(".")), f"{name} below pyproject's {required}"
        (run,) = [run for run in arguments("RUN") if f'"{package}==${{{name}}}"' in run]
        assert '--index-url "${TORCH_INDEX_URL}"' in run


def test_a_readme_edit_does_not_rebuild_the_dependency_layer() -> None:
    """pyproject's ``readme`` must exist when the dependencies install: the layer uses an empty
    stand-in, and the real README.md is copied only after it, with the sources."""
    instructions = dockerfile()
    layer = next(i for i, (keyword, rest) in enumerate(instructions) if keyword == "RUN" and "touch " in rest)
    before = [rest for keyword, rest in instructions[:layer] if keyword == "COPY"]
    assert before == ["pyproject.toml ./"], "only pyproject.toml may be copied before the dependency layer"
    touched = re.search(r"touch ([^&]+)", instructions[layer][1]).group(1).split()  # type: ignore[union-attr]
    assert "README.md" in touched
    assert "README.md" in re.search(r"rm -rf ([^&]+)$", instructions[layer][1]).group(1).split()  # type: ignore[union-attr]
    after = [rest for keyword, rest in instructions[layer:] if keyword == "COPY"]
    assert any(rest.split()[0] == "README.md" for rest in after)


def test_the_dependency_layer_leaves_no_stale_build_output() -> None:
    """The dependency layer installs empty stand-ins for bot/ and indexer/. setuptools' in-tree build
    output (build/) would later win over the real sources, whose COPY keeps their older mtimes: the
    image would ship an empty indexer/__init__.py (measured while writing this test)."""
    stand_in = next(run for run in arguments("RUN") if "touch bot/__init__.py" in run)
    removed = re.search(r"rm -rf ([^&]+)$", stand_in).group(1).split()  # type: ignore[union-attr]
    assert {"bot", "indexer", "build", "snapfit.egg-info"} <= set(removed)


def test_the_process_runs_as_a_non_root_user() -> None:
    instructions = dockerfile()
    users = [(i, rest) for i, (keyword, rest) in enumerate(instructions) if keyword == "USER"]
    assert users, "no USER: the container would run as root"
    position, user = users[-1]
    assert user not in {"root", "0"} and not user.startswith("0:")
    assert all(keyword != "RUN" for keyword, _ in instructions[position:]), "RUN after USER runs as the user"
    # Numeric (a runtime can check it is not root), and the user the image creates and owns /data with.
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) != 0 and (not gid or gid.isdigit())
    created = next(rest for keyword, rest in instructions if keyword == "RUN" and "useradd" in rest)
    assert f"--uid {uid}" in created and "--user-group" in created
    owner = re.search(r"useradd .* (\w+)$", created).group(1)  # type: ignore[union-attr]
    assert any(f"chown -R {owner}:{owner} /data /models" in rest for rest in arguments("RUN"))


def test_volumes_match_the_default_folders() -> None:
    (volumes,) = arguments("VOLUME")
    assert set(json.loads(volumes)) == {"/data", "/models"}
    assert arguments("WORKDIR")[-1] == "/"
    # The relative defaults land in the volumes.
    assert (Path("/") / DataSettings().dir).resolve() == Path("/data")
    assert (Path("/") / StoreSettings().path).resolve().is_relative_to("/data")
    env: dict[str, str] = {}
    for rest in arguments("ENV"):
        env.update(env_pairs(rest))
    assert env["HF_HOME"].startswith("/models/")


def test_environment_variables_of_the_image_are_settings_keys() -> None:
    for rest in arguments("ENV"):
        for name, value in env_pairs(rest).items():
            if name.startswith("SNAPFIT_"):
                assert_setting(name, value.strip('"'))


def test_healthcheck_runs_snapfit_health_and_the_default_command_is_run() -> None:
    (healthcheck,) = arguments("HEALTHCHECK")
    options, _, command = healthcheck.partition(" CMD ")
    assert json.loads(command)[:2] == ["snapfit", "health"]
    assert "--start-period=" in options and "--interval=" in options
    (cmd,) = arguments("CMD")
    assert json.loads(cmd) == ["snapfit", "run"]
    assert arguments("EXPOSE") == [str(MetricsSettings().port)]
    commands = {command.name for command in cli.registered_commands}
    assert {"run", "schedule", "health"} <= commands


def dockerignore() -> list[str]:
    lines = (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def ignored(path: str) -> bool:
    parts = Path(path).parts
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(
        fnmatch.fnmatch(candidate, pattern.removeprefix("**/")) or fnmatch.fnmatch(candidate, pattern)
        for pattern in dockerignore()
        for candidate in candidates
    )


def test_everything_copied_exists_and_is_not_ignored() -> None:
    copied = []
    for rest in arguments("COPY"):
        *sources, _ = rest.split()
        copied += [source for source in sources if not source.startswith("--")]
    assert copied
    for source in copied:
        assert (REPO / source).exists(), f"COPY {source}: no such file in the repository"
        assert not ignored(source), f"COPY {source}: excluded by .dockerignore"
    # The image gets every package the project installs.
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    packages = {
        pattern.rstrip("*") for pattern in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    assert packages <= {source.rstrip("/") for source in copied}
    assert pyproject["project"]["readme"] in copied
    # Secrets and local state stay out of the build context.
    for private in (".env", "config.toml", "data/qdrant", ".git/config", "tests/conftest.py"):
        assert ignored(private), private


# ---------------------------------------------------------------------------------------- compose


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]


def variables_used() -> set[str]:
    """Every variable the compose file interpolates (``$$`` is a literal dollar for the container)."""
    text = COMPOSE.read_text(encoding="utf-8").replace("$$", "")
    names = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", text))
    names |= set(re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", text))
    return names


def documented_variables() -> dict[str, str]:
    pairs = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, default = line.partition("=")
            pairs[name.strip()] = default.strip()
    return pairs


def interpolate(value: str) -> str:
    """A compose value as the container sees it with .env.example's values (placeholders for the
    required secrets)."""
    documented = documented_variables()

    def one(match: re.Match[str]) -> str:
        name, operator, fallback = match.group(1), match.group(2) or "", match.group(3) or ""
        current = documented.get(name, "")
        if operator.startswith(":?"):
            return current or "placeholder-secret"
        return current or fallback

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-|:\?)?([^}]*)\}", one, value)


def assert_setting(name: str, value: str) -> None:
    """``SNAPFIT_<SECTION>__<KEY>`` names a settings key, and ``value`` is valid for it."""
    if name == "SNAPFIT_CONFIG":
        return
    match = re.fullmatch(r"SNAPFIT_([A-Z]+)__([A-Z0-9_]+)", name)
    assert match, f"{name} is not SNAPFIT_<SECTION>__<KEY>"
    section, key = match.group(1).lower(), match.group(2).lower()
    assert section in Settings.model_fields, f"{name}: no section [{section}]"
    assert key in Settings.model_fields[section].annotation.model_fields, f"{name}: no key {section}.{key}"  # type: ignore[union-attr]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(name, value)
        try:
            loaded = load_settings(None)
        except ConfigError as exc:
            raise AssertionError(f"{name}={value!r}: {exc}") from None
    assert str(getattr(getattr(loaded, section), key)).lower() == value.lower().rstrip(
        "/"
    ) or value.startswith("[")


def test_compose_parses_and_has_the_documented_services() -> None:
    assert set(services()) == {*QDRANT_SERVICES, *SNAPFIT_SERVICES}
    profiles = {name: service.get("profiles", []) for name, service in services().items()}
    assert profiles == {
        "qdrant": [],
        "bot": [],
        "indexer": ["indexer"],
        "qdrant-node-2": ["cluster"],
        "qdrant-node-3": ["cluster"],
    }


def test_every_reference_resolves() -> None:
    defined = services()
    volumes = set(compose().get("volumes") or {})
    used_volumes = set()
    for name, service in defined.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in defined, f"{name} depends on unknown {dependency}"
            needs = set(defined[dependency].get("profiles", []))
            # A dependency in a profile must be enabled whenever the dependent is.
            assert not needs or needs & set(service.get("profiles", [])), f"{name} -> {dependency}"
        for mount in service.get("volumes", []):
            source = mount.split(":")[0]
            if source.startswith((".", "/")):
                assert source == "./config.toml", f"{name}: unexpected bind mount {mount}"
            else:
                assert source in volumes, f"{name}: volume {source} is not declared"
                used_volumes.add(source)
    assert used_volumes == volumes, "declared volumes nobody mounts"
    # ./config.toml is the operator's copy of the example, which exists.
    assert (REPO / "config.example.toml").is_file()


def test_qdrant_is_pinned_keyed_and_probed_without_curl() -> None:
    for name in QDRANT_SERVICES:
        service = services()[name]
        assert re.fullmatch(r"qdrant/qdrant:v\d+\.\d+\.\d+", service["image"]), service["image"]
        assert service["environment"]["QDRANT__SERVICE__API_KEY"].startswith("${QDRANT_API_KEY:?")
        probe = " ".join(service["healthcheck"]["test"])
        assert "/readyz" in probe and "curl" not in probe and "wget" not in probe
        assert service["volumes"][0].endswith(":/qdrant/storage")
    assert "ports" not in services()["qdrant-node-2"]  # peers are reached inside the network only
    assert all(
        "6335" not in str(port) for name in QDRANT_SERVICES for port in services()[name].get("ports", [])
    )


def test_snapfit_services_point_at_qdrant_with_its_key() -> None:
    for name in SNAPFIT_SERVICES:
        service = services()[name]
        env = service["environment"]
        assert env["SNAPFIT_STORE__URL"] == "http://qdrant:6333"
        assert (
            env["SNAPFIT_STORE__API_KEY"] == services()["qdrant"]["environment"]["QDRANT__SERVICE__API_KEY"]
        )
        assert service["depends_on"] == {"qdrant": {"condition": "service_healthy"}}
        assert env["SNAPFIT_CONFIG"] == "/etc/snapfit/config.toml"
        assert "./config.toml:/etc/snapfit/config.toml:ro" in service["volumes"]
        assert {mount.split(":")[1] for mount in service["volumes"]} >= {"/data", "/models"}
        assert all(str(port).endswith(f":{MetricsSettings().port}") for port in service["ports"])
    bot, indexer = services()["bot"], services()["indexer"]
    assert bot["command"] == ["snapfit", "run"] and indexer["command"] == ["snapfit", "schedule"]
    assert bot["environment"]["TELEGRAM_BOT_TOKEN"].startswith("${TELEGRAM_BOT_TOKEN:?")
    assert "TELEGRAM_BOT_TOKEN" not in indexer["environment"]  # the indexer needs no token
    assert bot["environment"]["SNAPFIT_SCHEDULE__ENABLED"] == "${BOT_NIGHTLY_SYNC:-true}"
    assert indexer["environment"]["SNAPFIT_SCHEDULE__ENABLED"] == "true"


def test_every_snapfit_variable_set_is_a_valid_settings_key() -> None:
    for name, service in services().items():
        for variable, value in (service.get("environment") or {}).items():
            if variable.startswith("SNAPFIT_"):
                assert_setting(variable, interpolate(str(value)))
            else:
                assert name in QDRANT_SERVICES or variable == "TELEGRAM_BOT_TOKEN", variable


def test_cluster_peers_bootstrap_from_the_first() -> None:
    first = services()["qdrant"]
    assert first["command"] == ["./qdrant", "--uri", "http://qdrant:6335"]
    assert first["environment"]["QDRANT__CLUSTER__ENABLED"] == "${QDRANT_CLUSTER_ENABLED:-false}"
    for name in ("qdrant-node-2", "qdrant-node-3"):
        peer = services()[name]
        assert peer["environment"]["QDRANT__CLUSTER__ENABLED"] == "true"
        assert peer["environment"]["QDRANT__CLUSTER__P2P__PORT"] == "6335"
        assert peer["command"] == [
            "./qdrant",
            "--bootstrap",
            "http://qdrant:6335",
            "--uri",
            f"http://{name}:6335",
        ]
        # Started after the first peer, not after it is healthy: after a full restart the first peer
        # is ready only once a majority of the peers is back.
        assert peer["depends_on"] == ["qdrant"]


def test_compose_passes_every_build_argument_it_documents() -> None:
    """The snapfit services build with the Dockerfile's arguments that operators set in .env."""
    args = build_args()
    for name in SNAPFIT_SERVICES:
        build = services()[name]["build"]
        passed = build["args"]
        assert {"TORCH_INDEX_URL", "SNAPFIT_EXTRAS"} <= set(passed), passed
        assert set(passed) <= set(args), set(passed) - set(args)
        assert passed["SNAPFIT_EXTRAS"] == "${SNAPFIT_EXTRAS:-}"
    # The documented default of each passed argument is the Dockerfile's own.
    assert interpolate("${SNAPFIT_EXTRAS:-}") == args["SNAPFIT_EXTRAS"]
    assert interpolate("${TORCH_INDEX_URL:-}") == args["TORCH_INDEX_URL"]


def test_every_variable_is_documented_and_every_documented_one_used() -> None:
    used, documented = variables_used(), documented_variables()
    assert used == set(documented), used ^ set(documented)
    assert documented["TELEGRAM_BOT_TOKEN"] == "" and documented["QDRANT_API_KEY"] == ""
    for name, value in documented.items():
        if value and name in {"BOT_NIGHTLY_SYNC", "QDRANT_CLUSTER_ENABLED", "TORCH_INDEX_URL"}:
            # .env.example shows the compose file's own default.
            assert f"${{{name}:-{value}}}" in COMPOSE.read_text(encoding="utf-8"), name


def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    docker = shutil.which("docker")
    plugin = docker and subprocess.run(
        [docker, "compose", "version"], capture_output=True, check=False, timeout=30
    )
    if docker is None or not plugin or plugin.returncode != 0:
        pytest.skip("no docker compose here: the compose file is checked by the tests above only")
    env = tmp_path / ".env"
    env.write_text("TELEGRAM_BOT_TOKEN=1:x\nQDRANT_API_KEY=k\n", encoding="utf-8")
    for profile in ([], ["--profile", "indexer", "--profile", "cluster"]):
        result = subprocess.run(
            [docker, "compose", "-f", str(COMPOSE), "--env-file", str(env), *profile, "config", "--quiet"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr


# ----------------------------------------------------------------------- Qdrant's health probe


class Readyz:
    """A stand-in for Qdrant's REST port: /readyz answers ``status``; records the paths asked for."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.paths: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.paths.append(request.path)
        return web.Response(status=self.status if request.path == "/readyz" else 404, text="")


@pytest.mark.skipif(shutil.which("bash") is None, reason="the probe is a bash script")
@pytest.mark.parametrize(("status", "healthy"), [(200, True), (503, False)])
async def test_the_qdrant_probe_passes_only_when_readyz_is_200(status: int, healthy: bool) -> None:
    qdrant = Readyz(status)
    app = web.Application()
    app.router.add_get("/{tail:.*}", qdrant.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        test = services()["qdrant"]["healthcheck"]["test"]
        assert test[:3] == ["CMD", "bash", "-c"]
        script = test[3].replace("$$", "$").replace("127.0.0.1/6333", f"127.0.0.1/{port}")
        process = await asyncio.create_subprocess_exec("bash", "-c", script)
        returncode = await asyncio.wait_for(process.wait(), 30)
    finally:
        await runner.cleanup()
    assert (returncode == 0) is healthy
    assert qdrant.paths == ["/readyz"]


@pytest.mark.skipif(shutil.which("bash") is None, reason="the probe is a bash script")
async def test_the_qdrant_probe_fails_when_nothing_listens() -> None:
    script = services()["qdrant"]["healthcheck"]["test"][3].replace("$$", "$").replace("/6333", "/9")
    process = await asyncio.create_subprocess_exec("bash", "-c", script, stderr=asyncio.subprocess.DEVNULL)
    assert await asyncio.wait_for(process.wait(), 30) != 0


# ------------------------------------------------------------------------------ docs/operations.md


def operating_section() -> str:
    return OPERATIONS.read_text(encoding="utf-8")


def test_operations_names_every_service_profile_and_variable() -> None:
    section = operating_section()
    for name in services():
        assert f"`{name}`" in section, name
    for profile in ("indexer", "cluster"):
        assert f"--profile {profile}" in section, profile
    for name in documented_variables():
        assert f"`{name}`" in section, name
    for name in {
        variable
        for service in services().values()
        for variable in (service.get("environment") or {})
        if variable.startswith("SNAPFIT_")
    }:
        assert name in section, name


def test_operations_documents_exactly_the_metric_series() -> None:
    section = operating_section()
    mentioned = set(re.findall(r"`(snapfit_[a-z_]+)`", section))
    # Series named in the text (alerts, crawling) must exist; the table must list every one.
    table = set(re.findall(r"^\| `(snapfit_[a-z_]+)` \|", section, flags=re.MULTILINE))
    series = set(METRIC_NAMES) | set(SEARCH_METRIC_NAMES)
    assert table == series
    assert mentioned <= series, mentioned - series
    # (a volume name such as snapfit_snapfit-data is not a series)
    for expression in re.findall(r"\b(snapfit_[a-z_]*[a-z])(?![\w-])", section):
        assert expression.removesuffix("_bucket") in series, expression


def test_operations_names_only_real_commands() -> None:
    section = operating_section()
    for command in re.findall(r"`snapfit ([a-z]+)", section):
        assert command in {c.name for c in cli.registered_commands} | {"model"}, command
